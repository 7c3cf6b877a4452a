package manifest

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
)

func hexFileID(domain, rel string) string {
	sum := sha1.Sum([]byte(domain + "-" + rel))
	return hex.EncodeToString(sum[:])
}

func TestDomainPath(t *testing.T) {
	cases := []struct {
		domain, rel, device string
	}{
		// Three domains share /var/mobile: the fileID picks the right one.
		{"MediaDomain", "Media/Recordings/big.mov", "/var/mobile/Media/Recordings/big.mov"},
		{"CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.HEIC", "/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.HEIC"},
		{"HomeDomain", "Library/SMS/sms.db", "/var/mobile/Library/SMS/sms.db"},
		{"HealthDomain", "Health/healthdb.sqlite", "/var/mobile/Library/Health/healthdb.sqlite"},
		{"ManagedPreferencesDomain", "mobile/x.plist", "/var/Managed Preferences/mobile/x.plist"},
		{"AppDomain-com.example.app", "Documents/é 文書.txt", "/var/mobile/Containers/Data/Application/com.example.app/Documents/é 文書.txt"},
		{"AppDomainGroup-group.com.example", "Library/db.sqlite", "/var/mobile/Containers/Shared/AppGroup/group.com.example/Library/db.sqlite"},
	}
	for _, c := range cases {
		d, rel, ok := DomainPath(c.device, strings.ToUpper(hexFileID(c.domain, c.rel)))
		if !ok || d != c.domain || rel != c.rel {
			t.Errorf("%s: got %q %q %v, want %s %s", c.device, d, rel, ok, c.domain, c.rel)
		}
	}
	refused := []struct{ device, id string }{
		// The right folder but another file's ID: a guess is never shown.
		{"/var/mobile/Library/SMS/sms.db", hexFileID("HomeDomain", "Library/SMS/other.db")},
		// A container named by its UUID, as on a real device: the ID is unknown.
		{"/var/mobile/Containers/Data/Application/0F1E2D3C-AAAA-BBBB-CCCC-000000000000/Documents/a", hexFileID("AppDomain-com.x", "Documents/a")},
		{"/nowhere/file", hexFileID("HomeDomain", "file")},
		{"/var/mobile/", hexFileID("HomeDomain", "")},
		{"/var/mobile/x", "not-a-file-id"},
		{"", ""},
	}
	for _, c := range refused {
		if d, rel, ok := DomainPath(c.device, c.id); ok {
			t.Errorf("%q %q: got %s/%s, want no match", c.device, c.id, d, rel)
		}
	}
}

// FuzzDomainPath: device paths are hostile input. No panic, and a match is always one
// whose fileID is right and whose device folder is the one given.
func FuzzDomainPath(f *testing.F) {
	f.Add("/var/mobile/Library/SMS/sms.db", hexFileID("HomeDomain", "Library/SMS/sms.db"))
	f.Add("/private/var/mobile/Containers/Shared/AppGroup/g/x", hexFileID("AppDomainGroup-g", "x"))
	f.Add("/var/root/\x00", "")
	f.Fuzz(func(t *testing.T, device, id string) {
		d, rel, ok := DomainPath(device, id)
		if !ok {
			return
		}
		if hexFileID(d, rel) != strings.ToLower(id) {
			t.Fatalf("%q %q: %s/%s does not hash to the fileID", device, id, d, rel)
		}
		root, known := DevicePath(d)
		if !known || strings.TrimPrefix(device, "/private") != root+"/"+rel {
			t.Fatalf("%q: %s/%s is not under %s", device, d, rel, root)
		}
	})
}
