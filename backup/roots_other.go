//go:build !darwin && !windows

package backup

import (
	"os"
	"path/filepath"
)

// platformRoots: Linux has no standard place (libimobiledevice users pass a folder), so
// it follows the XDG data folder.
func platformRoots(home string) []string {
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		data = filepath.Join(home, ".local", "share")
	}
	return []string{filepath.Join(data, "MobileSync", "Backup")}
}
