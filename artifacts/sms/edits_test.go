package sms

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The published message_summary_info of an edited message holds four versions of
// part 0 (see testdata/README.md); the unsent one holds none.
func TestEditHistoryRealBlobs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "Edited.plist"))
	if err != nil {
		t.Fatal(err)
	}
	edits := editHistory(b)
	want := []string{"First message  ", "Edit 1", "Edit 2", "Edited message"}
	if len(edits) != len(want) {
		t.Fatalf("%d versions: %+v", len(edits), edits)
	}
	first := time.Date(2022, 11, 19, 1, 17, 54, 0, time.UTC) // 690513474 s after 2001-01-01
	for i, e := range edits {
		if e.Text != want[i] {
			t.Errorf("version %d: %q, want %q", i, e.Text, want[i])
		}
		if i > 0 && !e.Date.After(edits[i-1].Date) {
			t.Errorf("version %d dated %v, not after %v", i, e.Date, edits[i-1].Date)
		}
	}
	if d := edits[0].Date.Truncate(time.Second); !d.Equal(first) {
		t.Errorf("first version dated %v, want %v", d, first)
	}
	d, err := os.ReadFile(filepath.Join("testdata", "Deleted.plist"))
	if err != nil {
		t.Fatal(err)
	}
	if e := editHistory(d); len(e) != 0 {
		t.Errorf("unsent message: history %+v", e)
	}
	for _, junk := range [][]byte{nil, []byte("bplist00"), []byte("not a plist")} {
		if e := editHistory(junk); e != nil {
			t.Errorf("junk %q: %+v", junk, e)
		}
	}
}

// message_summary_info comes from the backup: hostile bytes must not panic or hang.
func FuzzEditHistory(f *testing.F) {
	for _, name := range []string{"Edited.plist", "Deleted.plist"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, e := range editHistory(b) {
			_ = e.Text
		}
	})
}
