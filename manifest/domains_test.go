package manifest

import (
	"database/sql"
	"testing"
)

func TestDevicePath(t *testing.T) {
	for domain, want := range map[string]string{
		"HomeDomain":                             "/var/mobile",
		"CameraRollDomain":                       "/var/mobile",
		"HealthDomain":                           "/var/mobile/Library",
		"BooksDomain":                            "/var/mobile/Media/Books",
		"RootDomain":                             "/var/root",
		"SystemPreferencesDomain":                "/var/preferences",
		"WirelessDomain":                         "/var/wireless",
		"KeychainDomain":                         "/var/Keychains",
		"ManagedPreferencesDomain":               "/var/Managed Preferences",
		"DatabaseDomain":                         "/var/db",
		"MobileDeviceDomain":                     "/var/MobileDevice",
		"InstallDomain":                          "/var/installd",
		"ProtectedDomain":                        "/var/protected",
		"NetworkDomain":                          "/var/networkd",
		"AppDomain-net.whatsapp.WhatsApp":        "/var/mobile/Containers/Data/Application/net.whatsapp.WhatsApp",
		"AppDomainGroup-group.net.whatsapp":      "/var/mobile/Containers/Shared/AppGroup/group.net.whatsapp",
		"AppDomainPlugin-com.x.share":            "/var/mobile/Containers/Data/PluginKitPlugin/com.x.share",
		"SysContainerDomain-com.apple.geod":      "/var/containers/Data/System/com.apple.geod",
		"SysSharedContainerDomain-systemgroup.x": "/var/containers/Shared/SystemGroup/systemgroup.x",
		"AppDomain-com.dash-in-id":               "/var/mobile/Containers/Data/Application/com.dash-in-id",
	} {
		if got, ok := DevicePath(domain); !ok || got != want {
			t.Errorf("DevicePath(%q) = %q, %v; want %q", domain, got, ok, want)
		}
	}
	for _, domain := range []string{"", "UnknownDomain", "AppDomain-", "AppDomain-..", "AppDomain-.",
		"AppDomain-a/../../etc", "AppDomainGroup-x\x00y", "Foo-bar", "appdomain-com.x"} {
		if got, ok := DevicePath(domain); ok {
			t.Errorf("DevicePath(%q) = %q, want none", domain, got)
		}
	}
}

func TestSplitDomain(t *testing.T) {
	for domain, want := range map[string][2]string{
		"AppDomainGroup-group.com.x": {"AppDomainGroup", "group.com.x"},
		"AppDomain-com.a-b":          {"AppDomain", "com.a-b"},
		"AppDomainPlugin-p":          {"AppDomainPlugin", "p"},
		"SysContainerDomain-s":       {"SysContainerDomain", "s"},
		"HomeDomain":                 {"HomeDomain", ""},
		"Foo-bar":                    {"Foo-bar", ""},
	} {
		if k, id := SplitDomain(domain); k != want[0] || id != want[1] {
			t.Errorf("SplitDomain(%q) = %q, %q; want %q", domain, k, id, want)
		}
	}
}

// Every domain of the real sample has a device folder.
func TestDevicePathCoversSample(t *testing.T) {
	needFile(t, mvtDB)
	db, err := sql.Open("sqlite", "file:"+mvtDB+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT DISTINCT domain FROM Files")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var d string
		rows.Scan(&d)
		if _, ok := DevicePath(d); !ok {
			t.Errorf("no device path for %q", d)
		}
		n++
	}
	if n != mvtDomains {
		t.Fatalf("%d domains", n)
	}
}
