package capture

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStagedFilesLandAfterFolderChanges receives files into a staging copy while the
// device removes and replaces the folders they go to: a file must land in the folder
// that has its name now, not in one the store had open before (its folder handles are
// dropped when folders change), and no partial file may be left behind, also when the
// device gives up on a file.
func TestStagedFilesLandAfterFolderChanges(t *testing.T) {
	s, root, _ := newTestStore(t)
	if _, _, err := s.prepare(true); err != nil {
		t.Fatal(err)
	}
	u := testUDID + "/"
	receive := func(devPath, content string) {
		t.Helper()
		in, err := s.create(devPath)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(in.f, content)
		if err := s.commit(in); err != nil {
			t.Fatal(err)
		}
	}
	receive(u+"Snapshot/cd/one", "one")
	if err := s.remove(u + "Snapshot/cd"); err != nil {
		t.Fatal(err)
	}
	receive(u+"Snapshot/cd/two", "two") // a new folder cd
	if err := s.mkdirAll(u + "Snapshot/ef"); err != nil {
		t.Fatal(err)
	}
	receive(u+"Snapshot/ef/three", "three")
	if err := s.move(u+"Snapshot/ef", u+"Snapshot/cd"); err != nil { // replaces cd
		t.Fatal(err)
	}
	receive(u+"Snapshot/cd/four", "four")
	if err := s.move(u+"Snapshot/cd/four", u+"ab/four"); err != nil {
		t.Fatal(err)
	}
	in, err := s.create(u + "Snapshot/cd/failed")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(in.f, "half")
	s.abort(in)

	stage := filepath.Join(root, s.target)
	want := map[string]string{
		"Snapshot/cd/three": "three",
		"ab/four":           "four",
		"ab/abc":            "old blob", // linked from the previous backup
		"Status.plist":      "old status",
	}
	got := map[string]string{}
	err = filepath.WalkDir(stage, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(stage, p)
		if strings.HasPrefix(d.Name(), partPrefix) {
			t.Errorf("partial file left behind: %s", rel)
		}
		got[filepath.ToSlash(rel)] = read(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("staging copy holds %v, want %v", got, want)
	}
	for rel, content := range want {
		if got[rel] != content {
			t.Errorf("%s holds %q, want %q", rel, got[rel], content)
		}
	}
}
