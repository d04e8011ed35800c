package keysource

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// PrivateFileProblem says why the file fi at path may not hold a private key, secret, token or
// PIN, or "" when it may (privateModeProblem). The message names the chmod that fixes it.
func PrivateFileProblem(fi os.FileInfo, path string) string {
	owner := -1
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(sys.Uid)
	}
	return privateModeProblem(fi.Mode().Perm(), owner, os.Geteuid(), path)
}

// privateModeProblem applies PostgreSQL's rule for its server key (and ssh's for the owner's
// own keys): a file owned by the user ofpdp runs as must not be open to the group or others
// (0600 or less); a file owned by root may also be readable by its group (0640 or less), which
// is how Kubernetes mounts Secrets (root-owned, group = the pod's fsGroup) and how Debian's
// ssl-cert group works. Never writable by the group, never open to others. "" when perm is fine.
func privateModeProblem(perm os.FileMode, owner, self int, path string) string {
	forbidden, fix := os.FileMode(0o077), "chmod 600"
	if owner == 0 && self != 0 {
		forbidden, fix = 0o037, "chmod 640"
	}
	if perm&forbidden == 0 {
		return ""
	}
	return fmt.Sprintf("is accessible by group or others (mode %04o); it holds a private key, secret or token: run %s %s", perm, fix, shellQuote(path))
}

// shellQuote quotes path for a shell command line when it needs it.
func shellQuote(path string) string {
	if path != "" && strings.Trim(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@") == "" {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
