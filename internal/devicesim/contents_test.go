package devicesim

import (
	"sort"
	"strings"
	"testing"
)

func TestParseRestoreOptions(t *testing.T) {
	// What idevicebackup2 sends without flags, and with --system --settings --remove
	// --no-reboot (tools/idevicebackup2.c), Password inside Options.
	o := parseRestoreOptions(map[string]any{"Options": map[string]any{
		"RestoreSystemFiles": false, "RestoreDontCopyBackup": true, "RestorePreserveSettings": true,
		"RemoveItemsNotRestored": false,
	}})
	if o.system || !o.reboot || !o.preserveSettings || o.removeOthers || !o.dontCopy || o.password != "" {
		t.Errorf("defaults: %+v", o)
	}
	o = parseRestoreOptions(map[string]any{"Options": map[string]any{
		"RestoreSystemFiles": true, "RestoreShouldReboot": false, "RestorePreserveSettings": false,
		"RemoveItemsNotRestored": true, "Password": "pw",
	}})
	if !o.system || o.reboot || o.preserveSettings || !o.removeOthers || o.password != "pw" {
		t.Errorf("all flags: %+v", o)
	}
	if o := parseRestoreOptions(map[string]any{"Password": "top"}); o.password != "top" || !o.reboot {
		t.Errorf("top-level password, no Options: %+v", o)
	}
	if o := parseRestoreOptions(map[string]any{"Options": "not a dict"}); !o.reboot || o.system {
		t.Errorf("malformed Options: %+v", o)
	}
}

func TestMergeContents(t *testing.T) {
	file := func(key string, v byte) DeviceFile {
		d, p, _ := strings.Cut(key, "/")
		return DeviceFile{Domain: d, Path: p, Size: int64(v), SHA256: [32]byte{v}}
	}
	set := func(v byte, keys ...string) map[string]DeviceFile {
		m := map[string]DeviceFile{}
		for _, k := range keys {
			m[k] = file(k, v)
		}
		return m
	}
	device := set(1, "HomeDomain/a", "HomeDomain/only-device", "KeychainDomain/k",
		"HomeDomain/Library/Preferences/p.plist", "AppDomain-com.x/Documents/d", "WirelessDomain/only-device")
	backup := set(2, "HomeDomain/a", "KeychainDomain/k", "HomeDomain/Library/Preferences/p.plist",
		"AppDomain-com.x/Documents/d", "MediaDomain/new")
	describe := func(m map[string]DeviceFile) string {
		var out []string
		for k, f := range m {
			out = append(out, k+"="+string('0'+f.SHA256[0]))
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		name string
		o    restoreOptions
		want string
	}{
		{"everything", restoreOptions{system: true, removeOthers: true},
			"AppDomain-com.x/Documents/d=2 HomeDomain/Library/Preferences/p.plist=2 HomeDomain/a=2 KeychainDomain/k=2 MediaDomain/new=2"},
		{"idevicebackup2 defaults", restoreOptions{preserveSettings: true},
			"AppDomain-com.x/Documents/d=2 HomeDomain/Library/Preferences/p.plist=1 HomeDomain/a=2 HomeDomain/only-device=1 KeychainDomain/k=1 MediaDomain/new=2 WirelessDomain/only-device=1"},
		{"remove, no system", restoreOptions{removeOthers: true},
			"AppDomain-com.x/Documents/d=2 HomeDomain/Library/Preferences/p.plist=2 HomeDomain/a=2 KeychainDomain/k=1 MediaDomain/new=2 WirelessDomain/only-device=1"},
		{"system, keep settings", restoreOptions{system: true, preserveSettings: true},
			"AppDomain-com.x/Documents/d=2 HomeDomain/Library/Preferences/p.plist=1 HomeDomain/a=2 HomeDomain/only-device=1 KeychainDomain/k=2 MediaDomain/new=2 WirelessDomain/only-device=1"},
	} {
		if got := describe(mergeContents(device, backup, tc.o)); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
