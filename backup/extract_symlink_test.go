// Symlinks planted in the destination: Unix only. Windows allows them only with a
// privilege or developer mode, and Wine's CreateSymbolicLink makes nothing (and says it
// succeeded), so the test would prove nothing there; os.Root guards both alike.
//go:build !windows

package backup

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// TestExtractStaysInsideDest: symlinks planted in the destination, a folder leading
// outside and a file pointing outside, get nothing written through them, with
// --overwrite too; the overwritten file becomes a real file with the backup's contents.
func TestExtractStaysInsideDest(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 6, Entries: 150})
	b, err := Open(truth.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var file *gen.TruthEntry
	for i := range truth.Entries {
		if e := &truth.Entries[i]; e.Kind == manifest.KindFile && filepath.Dir(e.Path) != "." {
			file = e
			break
		}
	}
	if file == nil {
		t.Fatal("no file in a folder in the generated backup")
	}
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("not yours"), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	// The file's domain folder is a symlink to outside.
	if err := os.Symlink(outside, filepath.Join(dest, file.Domain)); err != nil {
		t.Fatal(err)
	}
	root, _ := b.Index.DomainRoot(file.Domain)
	_, err = b.Extract(dest, ExtractOptions{Roots: []int32{root}, Existing: ExistingOverwrite})
	if err == nil {
		t.Error("extract through a symlink leading outside succeeded")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Fatalf("written outside the destination: %v", ents)
	}

	// A file of the backup replaced by a symlink to a file outside.
	dest = t.TempDir()
	i, _ := b.Index.Lookup(file.Domain, file.Path)
	if st, err := b.Extract(dest, ExtractOptions{Roots: []int32{i}}); err != nil || st.Files != 1 {
		t.Fatalf("extract %s: %+v %v", file.Key(), st, err)
	}
	name := filepath.Join(dest, file.Domain, filepath.FromSlash(file.Path))
	os.Remove(name)
	if err := os.Symlink(victim, name); err != nil {
		t.Fatal(err)
	}
	st, err := b.Extract(dest, ExtractOptions{Roots: []int32{i}})
	var exists *ExistsError
	if !errors.As(err, &exists) || exists.Count != 1 || st.Failed != 0 {
		t.Fatalf("re-extract without a policy: %+v %v", st, err)
	}
	if st, err := b.Extract(dest, ExtractOptions{Roots: []int32{i}, Existing: ExistingOverwrite}); err != nil || st.Files != 1 {
		t.Fatalf("--overwrite: %+v %v", st, err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "not yours" {
		t.Errorf("the file outside was overwritten: %q", data)
	}
	lst, err := os.Lstat(name)
	if err != nil || !lst.Mode().IsRegular() {
		t.Fatalf("%s after --overwrite: %v %v", name, lst, err)
	}
}
