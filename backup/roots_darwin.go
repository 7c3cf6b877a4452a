package backup

import "path/filepath"

// platformRoots: Finder (and iTunes before it) keeps every device's backups here.
func platformRoots(home string) []string {
	return []string{filepath.Join(home, "Library", "Application Support", "MobileSync", "Backup")}
}
