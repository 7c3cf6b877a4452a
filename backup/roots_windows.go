package backup

import (
	"os"
	"path/filepath"
)

// platformRoots: iTunes from Apple's installer keeps backups under %APPDATA%; the
// Microsoft Store iTunes (and Apple Devices) under %USERPROFILE%\Apple. A machine that
// has had both has backups in both, so both are looked in, the classic one first.
func platformRoots(home string) []string {
	appData := os.Getenv("APPDATA")
	if appData == "" {
		appData = filepath.Join(home, "AppData", "Roaming")
	}
	return []string{
		filepath.Join(appData, "Apple Computer", "MobileSync", "Backup"),
		filepath.Join(home, "Apple", "MobileSync", "Backup"),
	}
}
