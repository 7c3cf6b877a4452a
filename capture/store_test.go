package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const testUDID = "00008030-000A1B2C3D4E5F60"

func TestMapDevicePath(t *testing.T) {
	good := map[string]string{
		testUDID + "/Status.plist":       "T/Status.plist",
		testUDID + "/Snapshot/ab/abcdef": "T/Snapshot/ab/abcdef",
		testUDID + "/Snapshot/":          "T/Snapshot",
		testUDID:                         "T",
	}
	for in, want := range good {
		got, err := mapDevicePath(testUDID, "T", in)
		if err != nil || got != want {
			t.Errorf("%q -> %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "/etc/passwd", "../x", testUDID + "/../x", testUDID + "/a/../../x", "./" + testUDID,
		testUDID + "/./x", testUDID + "//x", "OTHER/x", testUDID + "x/y", testUDID + "/a\\b",
		testUDID + "/a\x00b", "C:/x", testUDID + "/..", "..",
	} {
		if got, err := mapDevicePath(testUDID, "T", in); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/b", ".hidden", "a b"} {
		if err := checkUDID(bad); err == nil {
			t.Errorf("UDID %q accepted", bad)
		}
	}
}

// newTestStore makes a root with a previous backup holding one blob, and a folder
// outside the root that must never change.
func newTestStore(t *testing.T) (s *store, root, outside string) {
	t.Helper()
	parent := t.TempDir()
	root, outside = filepath.Join(parent, "root"), filepath.Join(parent, "outside")
	for _, d := range []string{filepath.Join(root, testUDID, "ab"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(root, testUDID, "ab", "abc"), "old blob")
	write(t, filepath.Join(root, testUDID, "Status.plist"), "old status")
	write(t, filepath.Join(outside, "x"), "outside")
	s, err := openStore(root, testUDID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s, root, outside
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStoreRefusesSymlinks(t *testing.T) {
	s, root, outside := newTestStore(t)
	if err := s.prepareInPlace(); err != nil {
		t.Fatal(err)
	}
	// A folder of the backup replaced by a link to the outside, and a link file.
	if err := os.Symlink(outside, filepath.Join(root, testUDID, "cd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "x"), filepath.Join(root, testUDID, "link")); err != nil {
		t.Fatal(err)
	}
	u := testUDID + "/"
	ops := map[string]func() error{
		"create": func() error { _, err := s.create(u + "cd/x"); return err },
		"mkdir":  func() error { return s.mkdirAll(u + "cd/sub") },
		"move to": func() error {
			return s.move(u+"Status.plist", u+"cd/x")
		},
		"move from": func() error { return s.move(u+"link", u+"stolen") },
		"remove":    func() error { return s.remove(u + "cd/x") },
		"copy from": func() error { return s.copyItem(u+"cd", u+"copy") },
		"copy to":   func() error { return s.copyItem(u+"Status.plist", u+"cd/y") },
		"open":      func() error { _, err := s.open(u + "link"); return err },
		"open in":   func() error { _, err := s.open(u + "cd/x"); return err },
		"list":      func() error { _, err := s.list(u + "cd"); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%s through a symlink: %v, want ErrUnsafePath", name, err)
		}
	}
	if got := read(t, filepath.Join(outside, "x")); got != "outside" {
		t.Fatalf("outside file now %q", got)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Fatalf("outside folder now holds %d entries", len(entries))
	}
	// The device folder itself is never replaced or removed.
	if err := s.remove(testUDID); err == nil {
		t.Error("removing the device folder was accepted")
	}
	if _, err := s.create(testUDID); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("writing over the device folder: %v", err)
	}
}

func TestStoreOperations(t *testing.T) {
	s, root, _ := newTestStore(t)
	if err := s.prepareInPlace(); err != nil {
		t.Fatal(err)
	}
	u := testUDID + "/"
	in, err := s.create(u + "Snapshot/cd/new")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(in.f, "new blob")
	if err := s.commit(in); err != nil {
		t.Fatal(err)
	}
	if err := s.move(u+"Snapshot/cd/new", u+"cd/new"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, testUDID, "cd", "new")); got != "new blob" {
		t.Fatalf("moved file holds %q", got)
	}
	// Moving a folder over an existing one replaces it.
	if err := s.mkdirAll(u + "Snapshot/ab"); err != nil {
		t.Fatal(err)
	}
	if err := s.writeFile(u+"Snapshot/ab/def", []byte("def")); err != nil {
		t.Fatal(err)
	}
	if err := s.move(u+"Snapshot/ab", u+"ab"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, testUDID, "ab", "abc")); !os.IsNotExist(err) {
		t.Errorf("old content of the replaced folder survived: %v", err)
	}
	if err := s.copyItem(u+"ab", u+"copy"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, testUDID, "copy", "def")); got != "def" {
		t.Fatalf("copy holds %q", got)
	}
	list, err := s.list(u + "copy")
	if err != nil || list["def"].Type != "DLFileTypeRegular" || list["def"].Size != 3 {
		t.Fatalf("list: %v %v", list, err)
	}
	if l, err := s.list(u + "missing"); err != nil || len(l) != 0 {
		t.Errorf("listing a missing folder: %v %v", l, err)
	}
	if err := s.remove(u + "copy"); err != nil {
		t.Fatal(err)
	}
	if err := s.remove(u + "never-existed"); err != nil {
		t.Errorf("removing a missing path: %v", err)
	}
	if err := s.move(u+"nothing", u+"x"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("moving a missing path: %v", err)
	}
	if err := s.move(u+"ab", u+"ab/inside"); err == nil {
		t.Error("moving a folder into itself was accepted")
	}
	f, err := s.open(u + "Status.plist")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "old status" {
		t.Fatalf("open read %q", b)
	}
	if _, err := s.open(u + "ab"); err == nil {
		t.Error("opened a folder as a file")
	}
}

func TestStagingKeepsPreviousBackup(t *testing.T) {
	s, root, _ := newTestStore(t)
	dir := filepath.Join(root, testUDID)
	inPlace, _, err := s.prepare(true)
	if err != nil || inPlace {
		t.Fatalf("prepare: in place %v, %v", inPlace, err)
	}
	// The staging copy shares the files (hard links), so it costs no space.
	a, _ := os.Stat(filepath.Join(dir, "ab", "abc"))
	b, err := os.Stat(filepath.Join(root, s.target, "ab", "abc"))
	if err != nil || !os.SameFile(a, b) {
		t.Fatalf("staging copy is not a hard link: %v", err)
	}
	// The device replaces a file: the previous backup must not see it.
	if err := s.writeFile(testUDID+"/ab/abc", []byte("new blob")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "ab", "abc")); got != "old blob" {
		t.Fatalf("previous backup changed to %q", got)
	}
	if err := s.discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, workDir)); !os.IsNotExist(err) {
		t.Errorf("work folder left after discard: %v", err)
	}
	if got := read(t, filepath.Join(dir, "ab", "abc")); got != "old blob" {
		t.Fatalf("previous backup changed to %q", got)
	}

	// Again, published this time.
	if _, _, err := s.prepare(true); err != nil {
		t.Fatal(err)
	}
	if err := s.writeFile(testUDID+"/ab/abc", []byte("new blob")); err != nil {
		t.Fatal(err)
	}
	if err := s.mkdirAll(testUDID + "/Snapshot"); err != nil {
		t.Fatal(err)
	}
	if err := s.publish(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "ab", "abc")); got != "new blob" {
		t.Fatalf("published backup holds %q", got)
	}
	for _, p := range []string{filepath.Join(root, workDir), filepath.Join(dir, "Snapshot")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after publish: %v", p, err)
		}
	}
}

func TestRecoverInterruptedSwap(t *testing.T) {
	s, root, _ := newTestStore(t)
	// A crash right after the previous backup was moved aside.
	if err := os.MkdirAll(filepath.Join(root, workDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, testUDID), filepath.Join(root, s.oldDir())); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, s.stagingDir()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.recoverLeftovers(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, testUDID, "ab", "abc")); got != "old blob" {
		t.Fatalf("previous backup not restored: %q", got)
	}
	for _, p := range []string{s.oldDir(), s.stagingDir()} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", p, err)
		}
	}
}
