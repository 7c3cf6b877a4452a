package manifest

import "strings"

// fixedDomains maps each domain without an ID to the device folder it backs up.
var fixedDomains = map[string]string{
	"HomeDomain":               "/var/mobile",
	"CameraRollDomain":         "/var/mobile",
	"MediaDomain":              "/var/mobile",
	"KeyboardDomain":           "/var/mobile",
	"TonesDomain":              "/var/mobile",
	"HomeKitDomain":            "/var/mobile",
	"HealthDomain":             "/var/mobile/Library",
	"BooksDomain":              "/var/mobile/Media/Books",
	"RootDomain":               "/var/root",
	"SystemPreferencesDomain":  "/var/preferences",
	"WirelessDomain":           "/var/wireless",
	"KeychainDomain":           "/var/Keychains",
	"ManagedPreferencesDomain": "/var/Managed Preferences",
	"DatabaseDomain":           "/var/db",
	"MobileDeviceDomain":       "/var/MobileDevice",
	"InstallDomain":            "/var/installd",
	"ProtectedDomain":          "/var/protected",
	"NetworkDomain":            "/var/networkd",
}

// containerDomains maps each kind of domain that carries an ID ("Kind-ID") to the
// folder holding its containers. On the device a container folder is named by a UUID
// the manifest does not record; DevicePath uses the ID (a bundle or group ID) instead.
var containerDomains = map[string]string{
	"AppDomain":                "/var/mobile/Containers/Data/Application",
	"AppDomainGroup":           "/var/mobile/Containers/Shared/AppGroup",
	"AppDomainPlugin":          "/var/mobile/Containers/Data/PluginKitPlugin",
	"SysContainerDomain":       "/var/containers/Data/System",
	"SysSharedContainerDomain": "/var/containers/Shared/SystemGroup",
}

// ValidDomain reports whether a domain name can be shown as a folder: not empty, not
// "." or "..", no '/' or NUL. A domain "." would put its files over those of the domain
// its paths name ("." + "HomeDomain/Library/SMS/sms.db"), and ".." outside the folder.
func ValidDomain(d string) bool {
	return d != "" && d != "." && d != ".." && !strings.ContainsAny(d, "/\x00")
}

// SplitDomain splits a container domain into its kind and ID:
// "AppDomainGroup-group.com.x" gives ("AppDomainGroup", "group.com.x"). Any other
// domain, including an unknown "Foo-bar", is returned whole as the kind with an empty ID.
func SplitDomain(domain string) (kind, id string) {
	if k, rest, ok := strings.Cut(domain, "-"); ok {
		if _, known := containerDomains[k]; known {
			return k, rest
		}
	}
	return domain, ""
}

// DevicePath returns the device folder a domain backs up, per the table in
// backup-format.md. For container domains the last component is the bundle or group
// ID (e.g. AppDomain-com.x -> /var/mobile/Containers/Data/Application/com.x); a later
// layer may substitute the container UUID. ok is false for an unknown domain, and for
// a container ID that could not be a single path component (empty, ".", ".." or
// containing '/' or NUL): a hostile domain must not name another folder.
func DevicePath(domain string) (path string, ok bool) {
	if p, found := fixedDomains[domain]; found {
		return p, true
	}
	kind, id := SplitDomain(domain)
	base, found := containerDomains[kind]
	if !found || id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return "", false
	}
	return base + "/" + id, true
}
