package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
)

func TestReadInfoSample(t *testing.T) {
	path := filepath.Join(mvtDir, "Info.plist")
	needFile(t, path)
	info, err := ParseInfo(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	// From the samples README: an iOS 14.3 iPhone9,3.
	if info.ProductVersion != "14.3" || info.ProductType != "iPhone9,3" {
		t.Fatalf("product %q %q", info.ProductType, info.ProductVersion)
	}
	// Every field against the plist decoded generically.
	raw, _ := os.ReadFile(path)
	var m map[string]any
	if _, err := plist.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for key, got := range map[string]string{
		"Device Name": info.DeviceName, "Display Name": info.DisplayName, "Build Version": info.BuildVersion,
		"Serial Number": info.SerialNumber, "Unique Identifier": info.UniqueIdentifier,
		"Target Identifier": info.TargetIdentifier, "Target Type": info.TargetType, "GUID": info.GUID,
		"IMEI": info.IMEI, "ICCID": info.ICCID, "iTunes Version": info.ITunesVersion,
	} {
		want, _ := m[key].(string)
		if want == "" || got != want {
			t.Errorf("%s = %q, plist has %q", key, got, want)
		}
	}
	if d, _ := m["Last Backup Date"].(time.Time); info.LastBackupDate.IsZero() || !info.LastBackupDate.Equal(d) {
		t.Errorf("Last Backup Date %v, plist has %v", info.LastBackupDate, d)
	}
	apps, _ := m["Installed Applications"].([]any)
	if len(apps) == 0 || len(apps) != len(info.InstalledApplications) {
		t.Fatalf("Installed Applications: %v vs %v", info.InstalledApplications, apps)
	}
	for i, a := range apps {
		if info.InstalledApplications[i] != a {
			t.Errorf("app %d: %q vs %q", i, info.InstalledApplications[i], a)
		}
	}
	if strings.ToLower(info.UniqueIdentifier) != info.TargetIdentifier {
		t.Errorf("UDID %q and target %q disagree", info.UniqueIdentifier, info.TargetIdentifier)
	}
}

func TestEncryptedSamplePlists(t *testing.T) {
	dir := encryptedDir
	needFile(t, filepath.Join(dir, "Manifest.plist"))
	m, err := ParseManifestPlist(readFile(t, filepath.Join(dir, "Manifest.plist")))
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsEncrypted || len(m.ManifestKey) != 44 || !bytes.HasPrefix(m.BackupKeyBag, []byte("VERS")) {
		t.Fatalf("encrypted %v, ManifestKey %d bytes, keybag %q...", m.IsEncrypted, len(m.ManifestKey), m.BackupKeyBag[:min(8, len(m.BackupKeyBag))])
	}
	if m.Lockdown.ProductVersion != "10.3" {
		t.Fatalf("Lockdown.ProductVersion %q", m.Lockdown.ProductVersion)
	}
	if _, err := ParseStatus(readFile(t, filepath.Join(dir, "Status.plist"))); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseInfo(readFile(t, filepath.Join(dir, "Info.plist"))); err != nil {
		t.Fatal(err)
	}
}

func TestParseInfoApps(t *testing.T) {
	meta := mustBplist(t, map[string]any{"itemName": "Telegram Messenger", "artistName": "Telegram FZ-LLC",
		"bundleShortVersionString": "7.5.1", "softwareVersionBundleId": "ph.telegra.Telegraph"})
	doc := map[string]any{
		"Device Name":            "iPhone",
		"Last Backup Date":       time.Date(2021, 5, 20, 10, 0, 0, 0, time.UTC),
		"Installed Applications": []string{"ph.telegra.Telegraph", "com.broken", "com.bare"},
		"Applications": map[string]any{
			"ph.telegra.Telegraph": map[string]any{"iTunesMetadata": meta, "PlaceholderIcon": []byte("\x89PNG")},
			"com.broken":           map[string]any{"iTunesMetadata": []byte("bplist00 damaged")},
			"com.bare":             map[string]any{},
		},
	}
	// Hosts write Info.plist as XML; accept binary as well.
	for _, format := range []int{plist.XMLFormat, plist.BinaryFormat} {
		data, err := plist.Marshal(doc, format)
		if err != nil {
			t.Fatal(err)
		}
		info, err := ParseInfo(data)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]AppInfo{
			"ph.telegra.Telegraph": {Name: "Telegram Messenger", Version: "7.5.1", Artist: "Telegram FZ-LLC"},
			"com.broken":           {},
			"com.bare":             {},
		}
		if !reflect.DeepEqual(info.Apps, want) || info.DeviceName != "iPhone" || info.LastBackupDate.Year() != 2021 {
			t.Fatalf("format %d: %+v", format, info)
		}
	}
}

func TestParseStatusAndManifestPlist(t *testing.T) {
	when := time.Date(2021, 5, 20, 10, 0, 0, 0, time.UTC)
	st, err := ParseStatus(mustBplist(t, map[string]any{"BackupState": "new", "SnapshotState": "finished",
		"UUID": "5F2B", "Version": "3.3", "Date": when, "IsFullBackup": false}))
	if err != nil {
		t.Fatal(err)
	}
	if *st != (Status{BackupState: "new", SnapshotState: "finished", UUID: "5F2B", Version: "3.3", Date: when}) {
		t.Fatalf("%+v", st)
	}

	data, err := plist.Marshal(map[string]any{
		"IsEncrypted": false, "BackupKeyBag": []byte("VERS"), "Version": "10.0", "WasPasscodeSet": true,
		"Date": when, "SystemDomainsVersion": "24.0",
		"Lockdown": map[string]any{"ProductVersion": "9.3.5", "DeviceName": "iPad", "UniqueDeviceID": "abc", "SerialNumber": "S", "BuildVersion": "13G36"},
		"Applications": map[string]any{"com.x": map[string]any{"CFBundleIdentifier": "com.x", "CFBundleVersion": "12",
			"Path": "/var/containers/Bundle/Application/U/X.app", "ContainerContentClass": "Data/Application"}},
	}, plist.XMLFormat)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifestPlist(data)
	if err != nil {
		t.Fatal(err)
	}
	want := ManifestPlist{BackupKeyBag: []byte("VERS"), Version: "10.0", WasPasscodeSet: true, Date: when, SystemDomainsVersion: "24.0",
		Lockdown:     Lockdown{ProductVersion: "9.3.5", DeviceName: "iPad", UniqueDeviceID: "abc", SerialNumber: "S", BuildVersion: "13G36"},
		Applications: map[string]ManifestApp{"com.x": {"com.x", "12", "/var/containers/Bundle/Application/U/X.app", "Data/Application"}}}
	if !reflect.DeepEqual(*m, want) {
		t.Fatalf("got  %+v\nwant %+v", *m, want)
	}
}

// TestPlistErrors: the parsers name the plist in their errors and refuse oversized
// input. (Reading the files of a backup folder, with its size limits before reading and
// its refusal of symlinks, is tested in package backup.)
func TestPlistErrors(t *testing.T) {
	if _, err := ParseStatus(mustBplist(t, map[string]any{"IsFullBackup": "yes"})); err == nil || !strings.HasPrefix(err.Error(), "Status.plist: ") {
		t.Fatalf("wrong type: %v", err)
	}
	if _, err := ParseManifestPlist([]byte("{ IsEncrypted = 1; }")); err == nil || !strings.HasPrefix(err.Error(), "Manifest.plist: ") {
		t.Fatalf("text format: %v", err)
	}
	if _, err := ParseStatus(make([]byte, MaxStatusPlistSize+1)); err == nil || !strings.Contains(err.Error(), "allowed") {
		t.Fatalf("oversized Status.plist: %v", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParseManifestPlist(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(encryptedDir, "Manifest.plist")); err == nil {
		f.Add(b)
	}
	x, _ := plist.Marshal(map[string]any{"IsEncrypted": true, "ManifestKey": []byte("k"),
		"Lockdown": map[string]any{"ProductVersion": "17.0"}, "Applications": map[string]any{"a": map[string]any{"Path": "/x"}}}, plist.XMLFormat)
	f.Add(x)
	f.Add([]byte(`<?xml version="1.0"?><plist><dict><key>IsEncrypted</key><true/></dict></plist>`))
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifestPlist(data)
		if err == nil && m == nil {
			t.Fatal("nil result without error")
		}
	})
}
