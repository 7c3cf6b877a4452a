package capture

import (
	"path"
	"strings"

	"iosbackup/manifest"
)

// displayName is how a file being received is shown: DOMAIN/PATH, the form ls and cat
// take, when the device path it came with and its blob name (the fileID) agree on a
// domain; else the device path; else where it lands in the backup folder (for
// Manifest.db and the other files that are not blobs).
func displayName(devicePath, hostPath, udid string) string {
	if domain, rel, ok := manifest.DomainPath(devicePath, path.Base(hostPath)); ok {
		return domain + "/" + rel
	}
	inFolder := strings.TrimPrefix(strings.TrimPrefix(hostPath, udid+"/"), "Snapshot/")
	if strings.HasPrefix(devicePath, "/") && isBlobName(inFolder) {
		return devicePath
	}
	return inFolder
}

// isBlobName reports whether rel is xx/<fileID> or a bare <fileID>.
func isBlobName(rel string) bool {
	_, err := manifest.ParseFileID(path.Base(rel))
	return err == nil
}
