package capture

// The facts of connected devices: listing them, and the lockdown values a backup
// records (device values, disk usage, installed apps).

import (
	"context"
	"errors"

	"howett.net/plist"
)

// ListDevices lists the connected devices. socket is the usbmuxd address ("" for the
// default, see Target.Socket). A device that cannot be asked everything is still
// listed, with Problem saying why.
func ListDevices(ctx context.Context, socket string) (devs []DeviceInfo, err error) {
	defer recoverPanic(&err)
	list, err := listMuxDevices(ctx, socket)
	if err != nil {
		return nil, err
	}
	for _, d := range uniqueDevices(list) {
		devs = append(devs, describeDevice(ctx, socket, d))
		if err := ctx.Err(); err != nil {
			return devs, err
		}
	}
	return devs, nil
}

// deviceValues is what a lockdown session tells about a device before a backup.
type deviceValues struct {
	all         map[string]any // the default domain
	iTunes      map[string]any // com.apple.iTunes
	willEncrypt bool
	usedBytes   int64 // data on the device; -1 unknown
}

// readDeviceValues reads what Info.plist, the space check and DeviceInfo need.
func readDeviceValues(ctx context.Context, l *lockdown) (*deviceValues, error) {
	v := &deviceValues{usedBytes: -1}
	all, err := l.getValue(ctx, "", "")
	if err != nil {
		return nil, err
	}
	v.all, _ = all.(map[string]any)
	if enc, err := l.getValue(ctx, "com.apple.mobile.backup", "WillEncrypt"); err == nil {
		v.willEncrypt, _ = enc.(bool)
	} else if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if it, err := l.getValue(ctx, "com.apple.iTunes", ""); err == nil {
		v.iTunes, _ = it.(map[string]any)
	}
	if du, err := l.getValue(ctx, "com.apple.disk_usage", ""); err == nil {
		v.usedBytes = usedBytes(du)
	}
	return v, ctx.Err()
}

// usedBytes computes the data on the device from the disk usage domain.
func usedBytes(du any) int64 {
	d, _ := du.(map[string]any)
	get := func(k string) (int64, bool) { return toInt64(d[k]) }
	if total, ok := get("TotalDataCapacity"); ok {
		if avail, ok := get("TotalDataAvailable"); ok && total >= avail {
			return total - avail
		}
		if avail, ok := get("AmountDataAvailable"); ok && total >= avail {
			return total - avail
		}
	}
	if total, ok := get("TotalDiskCapacity"); ok {
		if avail, ok := get("AmountDataAvailable"); ok && total >= avail {
			return total - avail
		}
	}
	return -1
}

// describeDevice fills a DeviceInfo, with a session when the host is paired.
func describeDevice(ctx context.Context, socket string, dev muxDevice) DeviceInfo {
	info := DeviceInfo{UDID: dev.udid, Connection: dev.connection}
	fill := func(all map[string]any) {
		str := func(k string) string { s, _ := all[k].(string); return s }
		info.Name, info.ProductType = str("DeviceName"), str("ProductType")
		info.ProductVersion, info.BuildVersion = str("ProductVersion"), str("BuildVersion")
		info.DeviceClass = str("DeviceClass")
	}
	pair, found, err := readPairRecord(ctx, socket, dev.udid)
	if err == nil && found {
		l, err := openLockdown(ctx, socket, dev, &pair)
		if err == nil {
			defer l.close()
			info.Paired = true
			v, err := readDeviceValues(ctx, l)
			if err == nil {
				fill(v.all)
				info.EncryptionKnown, info.Encrypted = true, v.willEncrypt
				return info
			}
			info.Problem = err.Error()
			return info
		}
		if errors.Is(err, ErrDeviceLocked) {
			info.Paired = true
		}
		info.Problem = err.Error()
	} else if err != nil {
		info.Problem = err.Error()
	} else {
		info.Problem = "not paired"
	}
	// Without a session lockdownd still tells the basics.
	l, err := openLockdown(ctx, socket, dev, nil)
	if err != nil {
		return info
	}
	defer l.close()
	all := map[string]any{}
	for _, k := range []string{"DeviceName", "ProductType", "ProductVersion", "BuildVersion", "DeviceClass"} {
		if v, err := l.getValue(ctx, "", k); err == nil {
			all[k] = v
		}
	}
	fill(all)
	return info
}

// installedApps asks installation_proxy for the user's apps, as iTunes records them in
// Info.plist. Best effort: a failure leaves the lists empty.
func installedApps(ctx context.Context, l *lockdown) (ids []any, apps map[string]any) {
	apps = map[string]any{}
	port, ssl, err := l.startService(ctx, "com.apple.mobile.installation_proxy", false)
	if err != nil {
		return nil, apps
	}
	c, err := connectService(ctx, l.socket, l.dev, port, ssl, l.pair)
	if err != nil {
		return nil, apps
	}
	defer c.Close()
	stop := closeOnCancel(ctx, c)
	defer stop()
	req := map[string]any{"Command": "Browse", "ClientOptions": map[string]any{
		"ApplicationType":  "User",
		"ReturnAttributes": []any{"CFBundleIdentifier", "ApplicationSINF", "iTunesMetadata"},
	}}
	body, err := plist.Marshal(req, plist.XMLFormat)
	if err != nil {
		return nil, apps
	}
	frame := make([]byte, 4, 4+len(body))
	frame[0], frame[1], frame[2], frame[3] = byte(len(body)>>24), byte(len(body)>>16), byte(len(body)>>8), byte(len(body))
	if _, err := c.Write(append(frame, body...)); err != nil {
		return nil, apps
	}
	for {
		data, err := readFrame(c)
		if err != nil {
			return ids, apps
		}
		var resp map[string]any
		if _, err := plist.Unmarshal(data, &resp); err != nil {
			return ids, apps
		}
		list, _ := resp["CurrentList"].([]any)
		for _, e := range list {
			app, _ := e.(map[string]any)
			id, _ := app["CFBundleIdentifier"].(string)
			if id == "" {
				continue
			}
			ids = append(ids, id)
			entry := map[string]any{}
			if sinf, ok := app["ApplicationSINF"].([]byte); ok {
				entry["ApplicationSINF"] = sinf
			}
			if meta, ok := app["iTunesMetadata"].([]byte); ok {
				entry["iTunesMetadata"] = meta
			}
			if len(entry) > 0 {
				apps[id] = entry
			}
		}
		if st, _ := resp["Status"].(string); st == "Complete" || resp["Error"] != nil {
			return ids, apps
		}
		if len(ids) > 100000 {
			return ids, apps
		}
	}
}
