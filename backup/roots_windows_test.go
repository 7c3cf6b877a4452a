package backup

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestDefaultRootsWindows: iTunes from Apple's installer (%APPDATA%\Apple Computer) and
// the Microsoft Store one (%USERPROFILE%\Apple) are both looked in, and list shows the
// backups of both; new backups go to the Store one once it exists.
func TestDefaultRootsWindows(t *testing.T) {
	appData, profile := t.TempDir(), t.TempDir()
	t.Setenv("IOSBACKUP_ROOT", "")
	t.Setenv("APPDATA", appData)
	t.Setenv("USERPROFILE", profile)
	classic := filepath.Join(appData, "Apple Computer", "MobileSync", "Backup")
	store := filepath.Join(profile, "Apple", "MobileSync", "Backup")
	if got := DefaultRoots(); !slices.Equal(got, []string{classic, store}) {
		t.Fatalf("DefaultRoots = %q, want %q", got, []string{classic, store})
	}
	if got := DefaultRoot(); got != classic {
		t.Errorf("DefaultRoot with neither folder = %q, want %q", got, classic)
	}

	a := genInRoot(t, classic, "00008030-000A", "Alpha Phone", 1)
	if got := DefaultRoot(); got != classic {
		t.Errorf("DefaultRoot with the classic folder only = %q, want %q", got, classic)
	}
	b := genInRoot(t, store, "00008101-000B", "Beta Pad", 2)
	if got := DefaultRoot(); got != store {
		t.Errorf("DefaultRoot with both = %q, want the Store one %q", got, store)
	}
	all, err := ScanRoots(DefaultRoots(), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := summaryDirs(all); !slices.Equal(got, []string{a, b}) {
		t.Errorf("ScanRoots(DefaultRoots()) = %q, want both %q and %q", got, a, b)
	}
	if dir, err := ResolveIn("beta", DefaultRoots()); err != nil || dir != b {
		t.Errorf(`ResolveIn("beta") = %q, %v; want %q`, dir, err, b)
	}
	// A path with forward slashes is a path on Windows too, never a name to look up.
	if _, err := ResolveIn("no/such/folder", DefaultRoots()); err == nil {
		t.Error("a missing slash path resolved")
	}
}
