package backup

import (
	"bytes"
	"database/sql"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

func TestWindowsName(t *testing.T) {
	for in, want := range map[string]string{
		"CON": "CON_", "con": "con_", "aux.log": "aux_.log", "Com1.tar.gz": "Com1_.tar.gz",
		"LPT9": "LPT9_", "lpt0": "lpt0_", "PRN.": "PRN%2E", "COM¹": "COM¹_", "CONIN$": "CONIN$_",
		"nul .txt": "nul _.txt", "CONSOLE": "CONSOLE", "COM10": "COM10", "LPT": "LPT", "xCON": "xCON",
		`a<b>c:d"e|f?g*h`: "a%3Cb%3Ec%3Ad%22e%7Cf%3Fg%2Ah", `back\slash`: "back%5Cslash",
		"tab\there": "tab%09here", "\x01": "%01", "trailing.": "trailing%2E", "trailing ": "trailing%20",
		"dots.. ": "dots%2E%2E%20", ".": "%2E", "..": "%2E%2E", ".hidden": ".hidden",
		"100%": "100%", "naïve café.txt": "naïve café.txt", "a b": "a b", "IMG_0001.HEIC": "IMG_0001.HEIC",
	} {
		if got := windowsName(in); got != want {
			t.Errorf("windowsName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWindowsNamesCollisions(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"README.TXT", "Readme.txt", "readme.txt"}, []string{"README.TXT", "Readme (2).txt", "readme (3).txt"}},
		// Equal once mapped.
		{[]string{"a%3Fb", "a?b"}, []string{"a%3Fb", "a%3Fb (2)"}},
		// A name kept as it is never goes to a numbered copy.
		{[]string{"X", "x", "x (2)"}, []string{"X", "x (3)", "x (2)"}},
		{[]string{".Profile", ".profile"}, []string{".Profile", ".profile (2)"}},
		{[]string{"CON", "con_"}, []string{"CON_", "con_ (2)"}},
		{[]string{"a", "b"}, []string{"a", "b"}},
	} {
		if got := windowsNames(c.in); !slices.Equal(got, c.want) {
			t.Errorf("windowsNames(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// hostileNames are device file names Windows cannot store as they are, and the names
// extract gives them there. Of two case twins the one first in byte order keeps its
// name (README.TXT < Readme.txt, Photo.JPG < photo.jpg).
var hostileNames = []struct{ device, windows string }{
	{"CON", "CON_"},
	{"Com1.tar.gz", "Com1_.tar.gz"},
	{"Photo.JPG", "Photo.JPG"},
	{"README.TXT", "README.TXT"},
	{"Readme.txt", "Readme (2).txt"},
	{`a<b>:c"d|e*f`, "a%3Cb%3E%3Ac%22d%7Ce%2Af"},
	{"aux.log", "aux_.log"},
	{`back\slash`, "back%5Cslash"},
	{"photo.jpg", "photo (2).jpg"},
	{"space ", "space%20"},
	{"trailing.", "trailing%2E"},
	{"what?.txt", "what%3F.txt"},
	// A folder (made up by the index: no row of its own) is renamed for what is below.
	{"NUL/inner.txt", "NUL_/inner.txt"},
}

// TestExtractWindowsNames moves files of a generated backup into one folder under the
// hostileNames (by rewriting their Manifest.db rows) and extracts it with the Windows
// renaming, which is always on on Windows (where this test runs under Wine too, on a
// file system that refuses the device names): every file arrives, under the name the
// table says, with its own contents, and the summary counts and names the renamed.
func TestExtractWindowsNames(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 11, Entries: 150})
	var folder *gen.TruthEntry
	var files []*gen.TruthEntry
	for i := range truth.Entries {
		te := &truth.Entries[i]
		switch {
		case folder == nil && te.Kind == manifest.KindDir && te.Path != "" && !te.Synthetic:
			folder = te
		case te.Kind == manifest.KindFile && !te.BlobMissing && !te.Synthetic && !te.SizeMismatch() && len(files) < len(hostileNames):
			files = append(files, te)
		}
	}
	if folder == nil || len(files) < len(hostileNames) {
		t.Fatalf("the generated backup has no folder or fewer than %d files", len(hostileNames))
	}
	db, err := sql.Open("sqlite", filepath.Join(truth.Dir, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	for k, f := range files {
		if _, err := db.Exec("UPDATE Files SET domain = ?, relativePath = ? WHERE fileID = ?",
			folder.Domain, folder.Path+"/"+hostileNames[k].device, f.ID().String()); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(truth.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	dest := t.TempDir()
	// WindowsNames is what a user on Linux asks for; on Windows it is on regardless.
	st, err := b.Extract(dest, ExtractOptions{WindowsNames: true, Warn: func(s string) { t.Log(s) }})
	if err != nil || st.Failed != 0 {
		t.Fatalf("extract: %+v %v", st, err)
	}
	dir := filepath.Join(dest, folder.Domain, filepath.FromSlash(folder.Path))
	for k, h := range hostileNames {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(h.windows)))
		if err != nil {
			t.Errorf("%s: %v", h.device, err)
			continue
		}
		want, _ := io.ReadAll(files[k].Content())
		if !bytes.Equal(got, want) {
			t.Errorf("%s extracted as %s: %d bytes, not the %d of %s", h.device, h.windows, len(got), len(want), files[k].Key())
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range ents {
		listed = append(listed, e.Name())
	}
	for _, h := range hostileNames {
		if top, _, _ := strings.Cut(h.windows, "/"); !slices.Contains(listed, top) {
			t.Errorf("%s is not in the extracted folder: %q", h.windows, listed)
		}
	}
	if st.Renamed != 11 {
		t.Errorf("Renamed = %d, want the 11 of hostileNames", st.Renamed)
	}
	if want := path.Join(folder.Domain, folder.Path, "CON"); st.FirstRenamed != want ||
		st.FirstRenamedTo != filepath.Join(folder.Domain, filepath.FromSlash(folder.Path), "CON_") {
		t.Errorf("first renamed %q -> %q, want %q -> .../CON_", st.FirstRenamed, st.FirstRenamedTo, want)
	}

	// One of them alone (a root deep in the tree) gets the same name.
	i, ok := b.Index.Lookup(folder.Domain, folder.Path+"/Readme.txt")
	if !ok {
		t.Fatal("Readme.txt is not in the index")
	}
	dest = t.TempDir()
	if st, err := b.Extract(dest, ExtractOptions{Roots: []int32{i}, WindowsNames: true}); err != nil || st.Files != 1 || st.Renamed != 1 {
		t.Fatalf("extract Readme.txt alone: %+v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dest, folder.Domain, filepath.FromSlash(folder.Path), "Readme (2).txt")); err != nil {
		t.Error(err)
	}
}
