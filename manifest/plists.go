package manifest

import (
	"fmt"
	"time"
)

// Size limits for the property lists beside a backup. Info.plist carries an icon and
// iTunes metadata per app, so it can reach tens of MB; the others are small. Readers
// refuse a larger file before reading it.
const (
	MaxInfoPlistSize     = 256 << 20
	MaxManifestPlistSize = 64 << 20
	MaxStatusPlistSize   = 1 << 20
)

// Info is Info.plist, written by the host at each backup.
type Info struct {
	DeviceName       string
	DisplayName      string
	ProductType      string // e.g. "iPhone9,3"
	ProductVersion   string // iOS version, e.g. "14.3"
	BuildVersion     string
	SerialNumber     string
	UniqueIdentifier string // the device UDID
	TargetIdentifier string
	TargetType       string
	GUID             string
	IMEI             string
	MEID             string
	ICCID            string
	PhoneNumber      string
	ITunesVersion    string
	LastBackupDate   time.Time
	// InstalledApplications lists bundle IDs, as the host recorded them.
	InstalledApplications []string
	// Apps maps a bundle ID to what its iTunesMetadata says; apps whose metadata is
	// missing or unreadable are present with empty fields.
	Apps map[string]AppInfo
}

// AppInfo is the part of an app's iTunesMetadata worth showing.
type AppInfo struct {
	Name    string // itemName: the App Store display name
	Version string // bundleShortVersionString
	Artist  string // artistName: the publisher
}

// Status is Status.plist: the state of the last backup run.
type Status struct {
	BackupState   string // "new", ...
	SnapshotState string // "finished" once the backup completed
	UUID          string
	Version       string
	Date          time.Time
	IsFullBackup  bool
}

// ManifestPlist is Manifest.plist.
type ManifestPlist struct {
	// IsEncrypted alone decides whether the backup is encrypted: a keybag can be
	// present in a plain backup.
	IsEncrypted  bool
	BackupKeyBag []byte
	// ManifestKey is the 4-byte little-endian class + 40-byte wrapped key of an
	// encrypted Manifest.db (iOS 10.2+); nil otherwise.
	ManifestKey          []byte
	Lockdown             Lockdown
	Applications         map[string]ManifestApp
	Date                 time.Time
	Version              string
	SystemDomainsVersion string
	WasPasscodeSet       bool
}

// Lockdown is the device description copied into Manifest.plist.
type Lockdown struct {
	ProductVersion string
	ProductType    string
	BuildVersion   string
	DeviceName     string
	UniqueDeviceID string
	SerialNumber   string
}

// ManifestApp is one entry of Manifest.plist Applications.
type ManifestApp struct {
	CFBundleIdentifier    string
	CFBundleVersion       string
	Path                  string // the .app path on the device; its base name is a fallback display name
	ContainerContentClass string
}

// The raw shapes, with the keys as Apple spells them.

type rawInfo struct {
	DeviceName            string                    `plist:"Device Name"`
	DisplayName           string                    `plist:"Display Name"`
	ProductType           string                    `plist:"Product Type"`
	ProductVersion        string                    `plist:"Product Version"`
	BuildVersion          string                    `plist:"Build Version"`
	SerialNumber          string                    `plist:"Serial Number"`
	UniqueIdentifier      string                    `plist:"Unique Identifier"`
	TargetIdentifier      string                    `plist:"Target Identifier"`
	TargetType            string                    `plist:"Target Type"`
	GUID                  string                    `plist:"GUID"`
	IMEI                  string                    `plist:"IMEI"`
	MEID                  string                    `plist:"MEID"`
	ICCID                 string                    `plist:"ICCID"`
	PhoneNumber           string                    `plist:"Phone Number"`
	ITunesVersion         string                    `plist:"iTunes Version"`
	LastBackupDate        time.Time                 `plist:"Last Backup Date"`
	InstalledApplications []string                  `plist:"Installed Applications"`
	Applications          map[string]rawInfoAppData `plist:"Applications"`
}

type rawInfoAppData struct {
	ITunesMetadata []byte `plist:"iTunesMetadata"`
}

type rawITunesMetadata struct {
	ItemName                 string `plist:"itemName"`
	BundleShortVersionString string `plist:"bundleShortVersionString"`
	ArtistName               string `plist:"artistName"`
}

type rawStatus struct {
	BackupState   string    `plist:"BackupState"`
	SnapshotState string    `plist:"SnapshotState"`
	UUID          string    `plist:"UUID"`
	Version       string    `plist:"Version"`
	Date          time.Time `plist:"Date"`
	IsFullBackup  bool      `plist:"IsFullBackup"`
}

type rawManifestPlist struct {
	IsEncrypted          bool                   `plist:"IsEncrypted"`
	BackupKeyBag         []byte                 `plist:"BackupKeyBag"`
	ManifestKey          []byte                 `plist:"ManifestKey"`
	Lockdown             Lockdown               `plist:"Lockdown"`
	Applications         map[string]ManifestApp `plist:"Applications"`
	Date                 time.Time              `plist:"Date"`
	Version              string                 `plist:"Version"`
	SystemDomainsVersion string                 `plist:"SystemDomainsVersion"`
	WasPasscodeSet       bool                   `plist:"WasPasscodeSet"`
}

// ParseInfo parses the bytes of an Info.plist (XML or binary). The files of a backup
// folder are read by package backup, which opens regular files inside the folder only.
func ParseInfo(data []byte) (*Info, error) {
	if len(data) > MaxInfoPlistSize {
		return nil, fmt.Errorf("Info.plist: %d bytes, more than the %d allowed", len(data), MaxInfoPlistSize)
	}
	info, err := parseInfo(data)
	if err != nil {
		return nil, fmt.Errorf("Info.plist: %w", err)
	}
	return info, nil
}

func parseInfo(data []byte) (*Info, error) {
	var r rawInfo
	if err := decodePlist(data, &r); err != nil {
		return nil, err
	}
	info := &Info{
		DeviceName:            r.DeviceName,
		DisplayName:           r.DisplayName,
		ProductType:           r.ProductType,
		ProductVersion:        r.ProductVersion,
		BuildVersion:          r.BuildVersion,
		SerialNumber:          r.SerialNumber,
		UniqueIdentifier:      r.UniqueIdentifier,
		TargetIdentifier:      r.TargetIdentifier,
		TargetType:            r.TargetType,
		GUID:                  r.GUID,
		IMEI:                  r.IMEI,
		MEID:                  r.MEID,
		ICCID:                 r.ICCID,
		PhoneNumber:           r.PhoneNumber,
		ITunesVersion:         r.ITunesVersion,
		LastBackupDate:        r.LastBackupDate,
		InstalledApplications: r.InstalledApplications,
	}
	if len(r.Applications) > 0 {
		info.Apps = make(map[string]AppInfo, len(r.Applications))
		for id, app := range r.Applications {
			// The metadata only decorates the listing: a damaged one must not cost
			// the user the device description, so its errors are dropped.
			var md rawITunesMetadata
			if len(app.ITunesMetadata) > 0 && decodePlist(app.ITunesMetadata, &md) == nil {
				info.Apps[id] = AppInfo{Name: md.ItemName, Version: md.BundleShortVersionString, Artist: md.ArtistName}
			} else {
				info.Apps[id] = AppInfo{}
			}
		}
	}
	return info, nil
}

// ParseStatus parses the bytes of a Status.plist (XML or binary).
func ParseStatus(data []byte) (*Status, error) {
	if len(data) > MaxStatusPlistSize {
		return nil, fmt.Errorf("Status.plist: %d bytes, more than the %d allowed", len(data), MaxStatusPlistSize)
	}
	st, err := parseStatus(data)
	if err != nil {
		return nil, fmt.Errorf("Status.plist: %w", err)
	}
	return st, nil
}

func parseStatus(data []byte) (*Status, error) {
	var r rawStatus
	if err := decodePlist(data, &r); err != nil {
		return nil, err
	}
	st := Status(r)
	return &st, nil
}

// ParseManifestPlist parses the bytes of a Manifest.plist (XML or binary).
func ParseManifestPlist(data []byte) (*ManifestPlist, error) {
	if len(data) > MaxManifestPlistSize {
		return nil, fmt.Errorf("Manifest.plist: %d bytes, more than the %d allowed", len(data), MaxManifestPlistSize)
	}
	m, err := parseManifestPlist(data)
	if err != nil {
		return nil, fmt.Errorf("Manifest.plist: %w", err)
	}
	return m, nil
}

func parseManifestPlist(data []byte) (*ManifestPlist, error) {
	var r rawManifestPlist
	if err := decodePlist(data, &r); err != nil {
		return nil, err
	}
	m := ManifestPlist(r)
	return &m, nil
}
