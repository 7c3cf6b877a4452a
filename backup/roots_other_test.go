//go:build !darwin && !windows

package backup

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestDefaultRootsXDG: on Linux the root follows XDG_DATA_HOME, else ~/.local/share.
func TestDefaultRootsXDG(t *testing.T) {
	home, data := t.TempDir(), t.TempDir()
	t.Setenv("IOSBACKUP_ROOT", "")
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", data)
	if got, want := DefaultRoots(), []string{filepath.Join(data, "MobileSync", "Backup")}; !slices.Equal(got, want) {
		t.Errorf("DefaultRoots with XDG_DATA_HOME = %q, want %q", got, want)
	}
	t.Setenv("XDG_DATA_HOME", "")
	if got, want := DefaultRoots(), []string{filepath.Join(home, ".local", "share", "MobileSync", "Backup")}; !slices.Equal(got, want) {
		t.Errorf("DefaultRoots = %q, want %q", got, want)
	}
}
