package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// mountsAt counts the mounts stacked at dir in /proc/self/mountinfo.
func mountsAt(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir {
			n++
		}
	}
	return n
}

// TestMountRefusesAMountPoint: a second mount onto a mounted folder is refused, saying
// so, instead of stacking on top of the first (and on a tmpfs when root).
func TestMountRefusesAMountPoint(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	src := filepath.Join(t.TempDir(), "b")
	genBackup(t, src, gen.Options{Seed: 4, Entries: 20})
	mp := mountBG(t, nil, src)
	out, err := cli(t, nil, "mount", "--background", src, mp)
	if err == nil {
		_, _ = cli(t, nil, "unmount", mp) // the stacked one, so that cleanup finds the first
		t.Fatalf("second mount onto %s succeeded:\n%s", mp, out)
	}
	if !strings.Contains(out, "already a mount point") || !strings.Contains(out, "fuse.iosbackup") {
		t.Errorf("second mount: %v\n%s", err, out)
	}
	if n := mountsAt(t, mp); n != 1 {
		t.Errorf("%d mounts at %s, want 1", n, mp)
	}
	if os.Geteuid() == 0 {
		tmp := mountTmpfs(t)
		out, err := cli(t, nil, "mount", "--background", src, tmp)
		if err == nil {
			_, _ = cli(t, nil, "unmount", tmp)
			t.Fatalf("mount onto a tmpfs succeeded:\n%s", out)
		}
		if !strings.Contains(out, "already a mount point") || !strings.Contains(out, "tmpfs") {
			t.Errorf("mount onto a tmpfs: %v\n%s", err, out)
		}
		if n := mountsAt(t, tmp); n != 1 {
			t.Errorf("%d mounts at %s, want 1", n, tmp)
		}
	}
}

// TestMountNonEmptyFolderNeedsAllowNonEmpty: a folder with files is refused (the mount
// would hide them); --allow-non-empty mounts over it, and the file is back after.
func TestMountNonEmptyFolderNeedsAllowNonEmpty(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	src := filepath.Join(t.TempDir(), "b")
	genBackup(t, src, gen.Options{Seed: 4, Entries: 20})
	mp := t.TempDir()
	mine := filepath.Join(mp, "mine.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, nil, "mount", "--background", src, mp)
	if err == nil {
		_, _ = cli(t, nil, "unmount", mp)
		t.Fatalf("mount onto a non-empty folder succeeded:\n%s", out)
	}
	if !strings.Contains(out, "not empty") || !strings.Contains(out, "mine.txt") || !strings.Contains(out, "--allow-non-empty") {
		t.Errorf("non-empty folder: %v\n%s", err, out)
	}
	if n := mountsAt(t, mp); n != 0 {
		t.Fatalf("%d mounts at %s after the refusal", n, mp)
	}

	if out, err := cli(t, nil, "mount", "--background", "--allow-non-empty", src, mp); err != nil {
		t.Fatalf("--allow-non-empty: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(mp, "domains")); err != nil {
		t.Errorf("mounted over the folder: %v", err)
	}
	if _, err := os.Stat(mine); err == nil {
		t.Errorf("%s visible through the mount", mine)
	}
	if out, err := cli(t, nil, "unmount", mp); err != nil {
		t.Fatalf("unmount: %v\n%s", err, out)
	}
	if data, err := os.ReadFile(mine); err != nil || string(data) != "mine" {
		t.Errorf("after unmount: %q, %v", data, err)
	}
}
