package history

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestClonerPicksWhatTheFileSystemHas: on ext4 (no FICLONE) the cloner steps down to
// hard links, on btrfs and XFS it clones, and either way the copy reads the same and
// is its own name.
func TestClonerPicksWhatTheFileSystemHas(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a")
	if err := os.WriteFile(src, []byte("contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c Cloner
	dst := filepath.Join(dir, "b")
	if err := c.File(src, dst); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(dst); err != nil || string(got) != "contents" {
		t.Fatalf("clone reads %q, %v", got, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Lstat(src)
	b, _ := os.Lstat(dst)
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC, unix.TMPFS_MAGIC:
		if c.Method != HardLink || !os.SameFile(a, b) {
			t.Fatalf("on ext4/tmpfs: method %v, same inode %v; want hard links", c.Method, os.SameFile(a, b))
		}
	case unix.BTRFS_SUPER_MAGIC, unix.XFS_SUPER_MAGIC:
		if c.Method != Reflink || os.SameFile(a, b) {
			t.Fatalf("on btrfs/XFS: method %v, same inode %v; want a clone", c.Method, os.SameFile(a, b))
		}
	default:
		t.Logf("file system %#x: %v", st.Type, c.Method)
	}
	// Once stepped down, the method stays.
	if err := c.File(src, filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
	// An existing destination is an error, not a silent replacement.
	if err := c.File(src, dst); err == nil {
		t.Fatal("cloning over an existing file succeeded")
	}
	// Copy, the last resort, makes an independent file.
	cp := Cloner{Method: Copy}
	if err := cp.File(src, filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	d, _ := os.Lstat(filepath.Join(dir, "d"))
	if os.SameFile(a, d) {
		t.Fatal("a copy is the same inode")
	}
}

// TestShareLinksOnlyEqualFiles: Share links a file to its twin of the same contents,
// leaves one that differs (even at the same size), and removes a leftover temporary.
func TestShareLinksOnlyEqualFiles(t *testing.T) {
	old, cur := t.TempDir(), t.TempDir()
	write := func(dir, name, body string) {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(old, "aa/same", "unchanged contents")
	write(cur, "aa/same", "unchanged contents")
	write(old, "aa/differs", "version one")
	write(cur, "aa/differs", "version two")
	write(old, "aa/only-old", "x")
	write(old, "aa/x"+shareTmp, "left by a kill")
	var c Cloner
	saved, err := Share(old, cur, &c)
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string) bool {
		a, _ := os.Lstat(filepath.Join(old, name))
		b, err := os.Lstat(filepath.Join(cur, name))
		return err == nil && os.SameFile(a, b)
	}
	if c.Method == HardLink && (!same("aa/same") || saved != int64(len("unchanged contents"))) {
		t.Fatalf("equal file not linked (saved %d)", saved)
	}
	if same("aa/differs") {
		t.Fatal("a file with other contents was linked")
	}
	if got, _ := os.ReadFile(filepath.Join(old, "aa/differs")); string(got) != "version one" {
		t.Fatalf("old file now reads %q", got)
	}
	if _, err := os.Lstat(filepath.Join(old, "aa/x"+shareTmp)); err == nil {
		t.Fatal("leftover temporary kept")
	}
}
