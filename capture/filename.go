package capture

import (
	"path"
	"strings"

	"iosbackup/manifest"
)

// displayName is how a file being received is shown: DOMAIN/PATH, the form ls and cat
// take, when the device path it came with and its blob name (the fileID) agree on a
// domain, or the previous backup's manifest knows its fileID; else the device path;
// else where it lands in the backup folder (for Manifest.db and the other files
// that are not blobs).
func displayName(devicePath, hostPath, udid string, prev *previousNames) string {
	id := path.Base(hostPath)
	if domain, rel, ok := manifest.DomainPath(devicePath, id); ok {
		return domain + "/" + rel
	}
	inFolder := strings.TrimPrefix(strings.TrimPrefix(hostPath, udid+"/"), "Snapshot/")
	if !isBlobName(inFolder) {
		return inFolder
	}
	if name, ok := prev.lookup(id); ok {
		return name
	}
	if strings.HasPrefix(devicePath, "/") {
		return devicePath
	}
	return inFolder
}

// isBlobName reports whether rel is xx/<fileID> or a bare <fileID>.
func isBlobName(rel string) bool {
	_, err := manifest.ParseFileID(path.Base(rel))
	return err == nil
}
