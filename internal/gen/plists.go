package gen

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"howett.net/plist"
)

// writePlists writes Manifest.plist, Info.plist and, last, Status.plist: a host marks
// a backup finished only once everything else is in place.
func (w *writer) writePlists() error {
	t := w.t
	// Identifiers that are not secrets but must not move between runs.
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], uint64(w.opt.Seed))
	binary.LittleEndian.PutUint64(s[8:], uint64(w.opt.Revision))
	rng := rand.New(rand.NewChaCha8(sha256.Sum256(s[:])))
	randomUUID := func() string {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], rng.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
		return formatUUID(b)
	}

	manifestApps := map[string]any{}
	infoApps := map[string]any{}
	var installed []string
	for i, a := range t.Apps {
		installed = append(installed, a.BundleID)
		manifestApps[a.BundleID] = map[string]any{
			"CFBundleIdentifier":    a.BundleID,
			"CFBundleVersion":       a.Version,
			"Path":                  fmt.Sprintf("/var/containers/Bundle/Application/%s/%s.app", a.ContainerID, a.AppName),
			"ContainerContentClass": "Data/Application",
		}
		meta, err := plist.Marshal(map[string]any{
			"itemName":                 a.DisplayName,
			"artistName":               a.Vendor,
			"bundleShortVersionString": a.Version,
			"bundleVersion":            a.Version,
			"softwareVersionBundleId":  a.BundleID,
			"itemId":                   1_000_000_000 + i*7919,
			"genre":                    "Productivity",
		}, plist.BinaryFormat)
		if err != nil {
			return fmt.Errorf("gen: encode iTunesMetadata of %s: %w", a.BundleID, err)
		}
		sinf := make([]byte, 64)
		for j := range sinf {
			sinf[j] = byte(rng.Uint32())
		}
		infoApps[a.BundleID] = map[string]any{
			"iTunesMetadata":  meta,
			"PlaceholderIcon": iconPNG(i),
			"ApplicationSINF": sinf,
		}
	}

	mbdbEra := w.opt.Format == FormatMBDB
	manifestVersion, domainsVersion, statusVersion, itunesVersion := "10.0", "24.0", "3.3", "12.12.4.1"
	if mbdbEra {
		manifestVersion, domainsVersion, statusVersion, itunesVersion = "9.1", "20.0", "2.4", "12.5.1.21"
	}
	m := map[string]any{
		"BackupKeyBag": w.kb.raw,
		"IsEncrypted":  w.opt.Encrypted,
		"Lockdown": map[string]any{
			"ProductVersion": t.ProductVersion,
			"BuildVersion":   t.BuildVersion,
			"DeviceName":     t.DeviceName,
			"UniqueDeviceID": t.UDID,
			"SerialNumber":   t.SerialNumber,
			"ProductType":    t.ProductType,
		},
		"Applications":         manifestApps,
		"Date":                 t.BackupDate,
		"Version":              manifestVersion,
		"SystemDomainsVersion": domainsVersion,
		"WasPasscodeSet":       true,
	}
	if w.manifestKeyRecord != nil {
		m["ManifestKey"] = w.manifestKeyRecord
	}
	if err := writePlist(filepath.Join(w.dir, "Manifest.plist"), m, plist.BinaryFormat); err != nil {
		return err
	}

	info := map[string]any{
		"Build Version":          t.BuildVersion,
		"Device Name":            t.DeviceName,
		"Display Name":           t.DisplayName,
		"GUID":                   strings.ReplaceAll(randomUUID(), "-", ""),
		"IMEI":                   t.IMEI,
		"Phone Number":           t.PhoneNumber,
		"Installed Applications": installed,
		"Applications":           infoApps,
		"Last Backup Date":       t.BackupDate,
		"Product Name":           productName(t.ProductType),
		"Product Type":           t.ProductType,
		"Product Version":        t.ProductVersion,
		"Serial Number":          t.SerialNumber,
		"Target Identifier":      t.UDID,
		"Target Type":            "Device",
		"Unique Identifier":      strings.ToUpper(t.UDID),
		"iTunes Version":         itunesVersion,
	}
	if err := writePlist(filepath.Join(w.dir, "Info.plist"), info, plist.XMLFormat); err != nil {
		return err
	}

	status := map[string]any{
		"BackupState":   "new",
		"Date":          t.BackupDate,
		"IsFullBackup":  w.opt.Revision == 0,
		"SnapshotState": "finished",
		"UUID":          randomUUID(),
		"Version":       statusVersion,
	}
	return writePlist(filepath.Join(w.dir, "Status.plist"), status, plist.BinaryFormat)
}

func productName(productType string) string {
	switch productType {
	case "iPhone12,1":
		return "iPhone 11"
	case "iPhone7,2":
		return "iPhone 6"
	}
	return "iPhone"
}

func writePlist(path string, v any, format int) error {
	var b []byte
	var err error
	if format == plist.XMLFormat {
		b, err = plist.MarshalIndent(v, format, "\t")
	} else {
		b, err = plist.Marshal(v, format)
	}
	if err != nil {
		return fmt.Errorf("gen: encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("gen: write %s: %w", path, err)
	}
	return nil
}
