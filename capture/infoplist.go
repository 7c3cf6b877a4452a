package capture

// The Info.plist a host writes into the backup before the device sends anything.

import (
	"strings"
	"time"

	"howett.net/plist"
)

// infoPlist is the Info.plist a host writes before the backup, from lockdown's values.
func infoPlist(udid string, v *deviceValues, appIDs []any, apps map[string]any, now time.Time) []byte {
	all := v.all
	d := map[string]any{
		"Target Identifier":      udid,
		"Target Type":            "Device",
		"Unique Identifier":      strings.ToUpper(udid),
		"Last Backup Date":       now.UTC(),
		"GUID":                   strings.ReplaceAll(newHostID(), "-", ""),
		"iTunes Version":         "12.13.2.3",
		"iTunes Files":           map[string]any{},
		"Installed Applications": appIDs,
		"Applications":           apps,
	}
	if appIDs == nil {
		d["Installed Applications"] = []any{}
	}
	if v.iTunes != nil {
		d["iTunes Settings"] = v.iTunes
	} else {
		d["iTunes Settings"] = map[string]any{}
	}
	copyKey := func(from, to string) {
		if s, ok := all[from].(string); ok && s != "" {
			d[to] = s
		}
	}
	copyKey("BuildVersion", "Build Version")
	copyKey("DeviceName", "Device Name")
	copyKey("DeviceName", "Display Name")
	copyKey("IntegratedCircuitCardIdentity", "ICCID")
	copyKey("InternationalMobileEquipmentIdentity", "IMEI")
	copyKey("InternationalMobileEquipmentIdentity2", "IMEI 2")
	copyKey("MobileEquipmentIdentifier", "MEID")
	copyKey("PhoneNumber", "Phone Number")
	copyKey("ProductType", "Product Type")
	copyKey("ProductVersion", "Product Version")
	copyKey("SerialNumber", "Serial Number")
	copyKey("ProductName", "Product Name")
	out, err := plist.MarshalIndent(d, plist.XMLFormat, "\t")
	if err != nil {
		// Only lockdown's own values go in; a failure is a bug, reported as a minimal file.
		out, _ = plist.Marshal(map[string]any{"Target Identifier": udid}, plist.XMLFormat)
	}
	return out
}
