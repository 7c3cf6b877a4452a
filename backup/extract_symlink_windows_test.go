package backup

import (
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// TestExtractSymlinksWindows: where Windows refuses symlinks (no Developer Mode, not an
// administrator, or Wine), extract leaves them out and counts them, and fails nothing;
// where it allows them they are made. Every symlink of the backup is one or the other.
func TestExtractSymlinksWindows(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 12, Entries: 150})
	links := 0
	for _, te := range truth.Entries {
		if te.Kind == manifest.KindSymlink {
			links++
		}
	}
	if links == 0 {
		t.Fatal("the generated backup has no symlink")
	}
	b, err := Open(truth.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.Extract(t.TempDir(), ExtractOptions{Warn: func(s string) { t.Log(s) }})
	if err != nil || st.Failed != 0 {
		t.Fatalf("extract: %+v %v", st, err)
	}
	if st.Links+st.LinksNotMade != links {
		t.Errorf("%d symlinks made and %d left out, want %d in all", st.Links, st.LinksNotMade, links)
	}
	t.Logf("%d symlinks made, %d left out", st.Links, st.LinksNotMade)
}
