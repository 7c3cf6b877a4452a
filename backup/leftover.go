package backup

import (
	"os"
	"path/filepath"
	"strings"
)

// The folder names a capture works with inside a backup root, here because reading
// commands must find what an interrupted capture left there (capture uses the same).
const (
	// CaptureWorkDir is the root-level folder of staging copies and temporary files.
	// It has no manifest at its top, so listing the root never takes it for a backup.
	CaptureWorkDir = ".iosbackup-capture"
	// StagingSuffix names the folder the device writes a new backup into.
	StagingSuffix = ".staging"
	// OldSuffix names a previous backup moved aside while a new one is published
	// (only where the file system cannot swap two folders in one step).
	OldSuffix = ".old"
	// PublishSuffix names the file a capture writes once its staging copy is complete,
	// just before publishing it: from then on the staging copy is a finished backup.
	PublishSuffix = ".publish"
)

// Leftover returns the complete backup an interrupted capture left in root's work
// folder for the device folder name udid, when root/udid itself is missing: the
// finished new backup when its publishing had begun, else the previous one moved
// aside. It returns "" when there is none. Reading commands use it so a capture
// killed between two renames does not hide the backup; the next capture finishes the
// publishing.
func Leftover(root, udid string) string {
	if udid == "" || strings.HasPrefix(udid, ".") || strings.ContainsRune(udid, os.PathSeparator) {
		return ""
	}
	if _, err := os.Lstat(filepath.Join(root, udid)); err == nil {
		return ""
	}
	work := filepath.Join(root, CaptureWorkDir)
	if fi, err := os.Lstat(work); err != nil || !fi.IsDir() {
		return ""
	}
	candidates := []string{filepath.Join(work, udid+OldSuffix)}
	if fi, err := os.Lstat(filepath.Join(work, udid+PublishSuffix)); err == nil && fi.Mode().IsRegular() {
		candidates = append([]string{filepath.Join(work, udid+StagingSuffix)}, candidates...)
	}
	for _, c := range candidates {
		if fi, err := os.Lstat(c); err == nil && fi.IsDir() && IsBackupDir(c) {
			return c
		}
	}
	return ""
}

// IsLeftover reports whether dir is a backup inside a capture's work folder, one that
// Leftover returned.
func IsLeftover(dir string) bool {
	return filepath.Base(filepath.Dir(filepath.Clean(dir))) == CaptureWorkDir
}

// leftovers lists the backups Leftover finds in root for device folders that are
// missing.
func leftovers(root string) []string {
	ents, err := os.ReadDir(filepath.Join(root, CaptureWorkDir))
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range ents {
		name := e.Name()
		for _, suf := range []string{OldSuffix, StagingSuffix} {
			udid, ok := strings.CutSuffix(name, suf)
			if !ok || seen[udid] {
				continue
			}
			seen[udid] = true
			if d := Leftover(root, udid); d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}
