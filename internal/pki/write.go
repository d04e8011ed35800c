package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// writeAll puts files into dir all or nothing: each is written and synced
// into a temporary directory inside dir, then moved into place. Without force
// existing targets are an ErrExists; with force they are moved aside first
// and put back if a later step fails. A directory it created is removed
// again on failure. place moves each file into dir (tests replace it to
// provoke a failure half-way).
func writeAll(dir string, files []file, force bool, place func(src, dst string) error) (err error) {
	if _, statErr := os.Stat(dir); errors.Is(statErr, fs.ErrNotExist) {
		defer func() {
			if err != nil {
				os.Remove(dir) // only succeeds when empty
			}
		}()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	existing, err := existingFiles(dir, names)
	if err != nil {
		return err
	}
	if len(existing) > 0 && !force {
		return existsError(dir, existing)
	}

	tmp, err := os.MkdirTemp(dir, ".pki-new-")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		if err := writeFile(filepath.Join(tmp, f.name), f.data, fs.FileMode(f.mode)); err != nil {
			return err
		}
	}

	// Move the old files aside (force only), remembering how to undo.
	var backup string
	var movedAside, placed []string
	defer func() {
		if err != nil {
			for _, name := range placed {
				os.Remove(filepath.Join(dir, name))
			}
			for _, name := range movedAside {
				if rerr := os.Rename(filepath.Join(backup, name), filepath.Join(dir, name)); rerr != nil {
					err = fmt.Errorf("%w; the previous files could not all be put back and are kept in %s", err, backup)
					return
				}
			}
		}
		if backup != "" {
			os.RemoveAll(backup)
		}
	}()
	if len(existing) > 0 {
		if backup, err = os.MkdirTemp(dir, ".pki-old-"); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		for _, name := range existing {
			if err = os.Rename(filepath.Join(dir, name), filepath.Join(backup, name)); err != nil {
				return fmt.Errorf("pki: move aside %s: %w", name, err)
			}
			movedAside = append(movedAside, name)
		}
	}
	for _, f := range files {
		if err = place(filepath.Join(tmp, f.name), filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		placed = append(placed, f.name)
	}
	return syncDir(dir)
}

// checkAbsent returns an ErrExists error when any of names exists in dir.
func checkAbsent(dir string, names []string) error {
	existing, err := existingFiles(dir, names)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return existsError(dir, existing)
	}
	return nil
}

func existingFiles(dir string, names []string) ([]string, error) {
	var existing []string
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			existing = append(existing, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	return existing, nil
}

func existsError(dir string, existing []string) error {
	list := strings.Join(existing, ", ")
	if len(existing) > 4 {
		list = fmt.Sprintf("%s and %d more", strings.Join(existing[:4], ", "), len(existing)-4)
	}
	return fmt.Errorf("%w in %s: %s; nothing was changed (use --force to replace them)", ErrExists, dir, list)
}

// placeFile moves src to dst without replacing a file that appeared meanwhile:
// a hard link fails when dst exists; where links are unsupported it renames.
func placeFile(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s appeared while writing: %w", filepath.Base(dst), ErrExists)
	}
	if _, statErr := os.Lstat(dst); !errors.Is(statErr, fs.ErrNotExist) {
		return err
	}
	return os.Rename(src, dst)
}

func writeFile(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	// Chmod after create so that the umask cannot change the intended mode.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("pki: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("pki: sync %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pki: sync %s: %w", dir, err)
	}
	return nil
}
