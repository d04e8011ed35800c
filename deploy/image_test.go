package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxImageBytes bounds the image: the static binary and a CA bundle, nothing else.
const maxImageBytes = 80 << 20

// TestImage builds the image with `make image` and podman (in a storage of its own, vfs driver,
// so it needs no system configuration), then checks what Kubernetes relies on: the entrypoint,
// a numeric non-root user, the three exposed ports, the OCI labels, the size, and that the
// binary inside is the static one `make build` produced and answers `version` (containers
// cannot run here, so the binary is copied out and run beside it).
func TestImage(t *testing.T) {
	podmanBin := need(t, "podman", "apt-get install podman")
	store := t.TempDir()
	storage := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"}
	podman := func(args ...string) []byte {
		t.Helper()
		return run(t, store, podmanBin, append(slices.Clone(storage), args...)...)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "ofpdp")
	const image = "localhost/ofpdp-deploytest:" + testVersion
	engine := podmanBin + " " + strings.Join(storage, " ")
	run(t, repoRoot(t), "make", "--no-print-directory", "image", "ENGINE="+engine, "IMAGE="+image,
		"IMAGE_CONTEXT="+filepath.Join(dir, "context"), "BIN="+bin, "VERSION="+testVersion, "BUILD_DATE="+testDate)

	var inspected []struct {
		Size   int64
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]struct{}
			Labels       map[string]string
			WorkingDir   string
		}
	}
	if err := json.Unmarshal(podman("image", "inspect", image), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect: %v (%d images)", err, len(inspected))
	}
	img := inspected[0]
	if !slices.Equal(img.Config.Entrypoint, []string{"ofpdp", "serve"}) || len(img.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q, want [ofpdp serve] and no cmd", img.Config.Entrypoint, img.Config.Cmd)
	}
	if img.Config.User != "65532:65532" {
		t.Errorf("user %q, want the numeric non-root 65532:65532", img.Config.User)
	}
	var ports []string
	for p := range img.Config.ExposedPorts {
		ports = append(ports, p)
	}
	slices.Sort(ports)
	if want := []string{"8443/tcp", "8444/tcp", "9090/tcp"}; !slices.Equal(ports, want) {
		t.Errorf("exposed ports %v, want %v", ports, want)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version": testVersion, "org.opencontainers.image.created": testDate,
		"org.opencontainers.image.title": "ofpdp", "org.opencontainers.image.licenses": "Apache-2.0",
	} {
		if got := img.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if img.Config.Labels["org.opencontainers.image.revision"] == "" {
		t.Error("label org.opencontainers.image.revision is empty")
	}
	if img.Size <= 0 || img.Size > maxImageBytes {
		t.Errorf("image size %d bytes, want at most %d", img.Size, maxImageBytes)
	}

	ctr := strings.TrimSpace(string(podman("create", image)))
	inside := filepath.Join(dir, "ofpdp-from-image")
	podman("cp", ctr+":/usr/local/bin/ofpdp", inside)
	podman("cp", ctr+":/etc/ssl/certs/ca-certificates.crt", filepath.Join(dir, "ca.crt"))
	podman("rm", ctr)
	if !sameFile(t, bin, inside) {
		t.Error("the binary in the image is not the one make build produced")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ca.crt")); err != nil || !bytes.Contains(b, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("CA bundle in the image: %v", err)
	}
	assertStatic(t, inside)
	assertVersion(t, inside, img.Config.Labels["org.opencontainers.image.revision"])
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	sum := func(p string) [32]byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(data)
	}
	return sum(a) == sum(b)
}
