package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// requireRoot skips a test that mounts a filesystem of another type (only root may),
// or fails it in CI, which runs as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test mounts a tmpfs: CI must run as root")
	}
	t.Skip("not root: cannot mount a tmpfs")
}

// mountTmpfs mounts a small tmpfs of the test's own in a temp folder, unmounted at the
// end of the test.
func mountTmpfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting the test's tmpfs %s: %v", dir, err)
		}
	})
	return dir
}

// isMountedAs reports whether /proc/self/mountinfo has a mount of type fstype at dir.
func isMountedAs(t *testing.T, dir, fstype string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		for i := 6; i+1 < len(f); i++ {
			if f[i] == "-" && f[4] == dir && f[i+1] == fstype {
				return true
			}
		}
	}
	return false
}

// TestUnmountActsOnlyOnIosbackupMounts: run as root, unmount refused a tmpfs (idle, and
// busy: no lazy detach) saying it is not an iosbackup mount, and the tmpfs stayed; a
// plain folder is "not mounted"; a missing path is named with its error.
func TestUnmountActsOnlyOnIosbackupMounts(t *testing.T) {
	requireRoot(t)
	isolate(t)
	tmp := mountTmpfs(t)
	if err := os.WriteFile(filepath.Join(tmp, "keep"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, nil, "unmount", tmp)
	if err == nil || !strings.Contains(out, "not an iosbackup mount") || !strings.Contains(out, "tmpfs") {
		t.Fatalf("unmount of a tmpfs: %v\n%s", err, out)
	}
	if !isMountedAs(t, tmp, "tmpfs") {
		t.Fatal("the tmpfs was unmounted")
	}

	// Busy: a file open in it. Today's code detached it lazily.
	f, err := os.Open(filepath.Join(tmp, "keep"))
	if err != nil {
		t.Fatal(err)
	}
	out, err = cli(t, nil, "unmount", tmp)
	if err == nil || !strings.Contains(out, "not an iosbackup mount") || strings.Contains(out, "detached") {
		t.Fatalf("unmount of a busy tmpfs: %v\n%s", err, out)
	}
	if !isMountedAs(t, tmp, "tmpfs") {
		t.Fatal("the busy tmpfs was detached")
	}
	f.Close()

	plain := t.TempDir()
	if out, err = cli(t, nil, "unmount", plain); err == nil || !strings.Contains(out, "not mounted") {
		t.Fatalf("unmount of a plain folder: %v\n%s", err, out)
	}
	missing := filepath.Join(plain, "nope")
	if out, err = cli(t, nil, "unmount", missing); err == nil || !strings.Contains(out, missing) || !strings.Contains(out, "no such file") {
		t.Fatalf("unmount of a missing path: %v\n%s", err, out)
	}
}

// TestUnmountOwnMountThroughSymlinkedParent: our own mount is still unmounted when it is
// named through a symlink to its parent folder (mountinfo holds the resolved path).
func TestUnmountOwnMountThroughSymlinkedParent(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	src := filepath.Join(t.TempDir(), "b")
	genBackup(t, src, gen.Options{Seed: 3, Entries: 20})
	parent := t.TempDir()
	mp := filepath.Join(parent, "mnt")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(parent, link); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, nil, "mount", "--background", src, mp); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	out, err := cli(t, nil, "unmount", filepath.Join(link, "mnt"))
	if err != nil {
		_, _ = cli(t, nil, "unmount", mp)
		t.Fatalf("unmount through a symlink: %v\n%s", err, out)
	}
	if isMountedAs(t, mp, "fuse.iosbackup") {
		t.Fatal("still mounted")
	}
}
