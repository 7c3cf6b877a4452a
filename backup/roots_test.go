package backup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"iosbackup/internal/gen"
)

// genInRoot generates a small backup as root/<udid> and returns its folder.
func genInRoot(t *testing.T, root, udid, name string, seed int64) string {
	t.Helper()
	dir := filepath.Join(root, udid)
	if _, err := gen.Generate(dir, gen.Options{Seed: seed, Entries: 20, UDID: udid, DeviceName: name}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func summaryDirs(all []Summary) []string {
	var dirs []string
	for _, s := range all {
		dirs = append(dirs, s.Dir)
	}
	slices.Sort(dirs)
	return dirs
}

// TestScanRootsListsEveryRoot: two roots (as on Windows) are listed together, a root
// that does not exist is passed over, and a BACKUP given by UDID or name is found in
// either; none existing is an error naming them.
func TestScanRootsListsEveryRoot(t *testing.T) {
	base := t.TempDir()
	classic, store, missing := filepath.Join(base, "classic"), filepath.Join(base, "store"), filepath.Join(base, "missing")
	a := genInRoot(t, classic, "00008030-000A", "Alpha Phone", 1)
	b := genInRoot(t, store, "00008101-000B", "Beta Pad", 2)

	all, err := ScanRoots([]string{classic, missing, store}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summaryDirs(all), []string{a, b}; !slices.Equal(got, want) {
		t.Fatalf("ScanRoots = %q, want %q", got, want)
	}
	for arg, want := range map[string]string{"00008030": a, "00008101-000b": b, "beta": b, "Alpha Phone": a} {
		if got, err := ResolveIn(arg, []string{classic, store}); err != nil || got != want {
			t.Errorf("ResolveIn(%q) = %q, %v; want %q", arg, got, err, want)
		}
	}
	_, err = ResolveIn("0000", []string{classic, store})
	if err == nil || !strings.Contains(err.Error(), "matches 2 backups") {
		t.Errorf("ambiguous prefix across roots: %v", err)
	}

	_, err = ScanRoots([]string{missing, filepath.Join(base, "also-missing")}, false)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("no root exists: %v", err)
	}
}

// TestDefaultRootsHonoursIOSBACKUP_ROOT: the override replaces every platform root.
func TestDefaultRootsHonoursIOSBACKUP_ROOT(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IOSBACKUP_ROOT", dir)
	if got := DefaultRoots(); !slices.Equal(got, []string{dir}) {
		t.Errorf("DefaultRoots = %q, want only %q", got, dir)
	}
	if got := DefaultRoot(); got != dir {
		t.Errorf("DefaultRoot = %q, want %q", got, dir)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if got := DefaultRoot(); got != dir {
		t.Errorf("DefaultRoot of a missing override = %q, want %q", got, dir)
	}
}
