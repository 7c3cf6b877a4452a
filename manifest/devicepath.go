package manifest

import "strings"

// DomainPath finds the domain and relative path of a file from its path on the device
// and its fileID, the way a capture names the file being received: a device uploads
// each file with its device path and its blob name (the fileID) but not its domain.
// Several domains share a folder (HomeDomain, MediaDomain and CameraRollDomain are all
// /var/mobile), so a candidate counts only when SHA1(domain-path) is the fileID.
// Container domains resolve only when the device path names the container by its
// bundle or group ID, as DevicePath does; a device's own paths use a UUID there, and
// give ok false, as do unknown folders and malformed input.
func DomainPath(devicePath, fileID string) (domain, relativePath string, ok bool) {
	id, err := ParseFileID(fileID)
	if err != nil {
		return "", "", false
	}
	p := devicePath
	if strings.HasPrefix(p, "/private/") {
		p = strings.TrimPrefix(p, "/private") // /var is a link to /private/var on iOS
	}
	matches := func(domain, rel string) bool {
		return fileIDOf(domain, rel) == id
	}
	for d, root := range fixedDomains {
		if rel, found := strings.CutPrefix(p, root+"/"); found && rel != "" && matches(d, rel) {
			return d, rel, true
		}
	}
	for kind, base := range containerDomains {
		rest, found := strings.CutPrefix(p, base+"/")
		if !found {
			continue
		}
		cid, rel, found := strings.Cut(rest, "/")
		if found && cid != "" && rel != "" && matches(kind+"-"+cid, rel) {
			return kind + "-" + cid, rel, true
		}
	}
	return "", "", false
}
