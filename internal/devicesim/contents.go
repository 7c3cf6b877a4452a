package devicesim

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"iosbackup/backup"
	"iosbackup/manifest"
)

// DeviceFile is one regular file on the simulated device: what its apps would read.
type DeviceFile struct {
	Domain, Path string
	Size         int64
	SHA256       [32]byte
}

// Key is "Domain/path", the key of Contents.
func (f DeviceFile) Key() string { return f.Domain + "/" + f.Path }

// readContents reads the plaintext of every file of the backup folder dir, unwrapping
// an encrypted backup's keys with password, as the device does when it restores.
func readContents(dir, password string) (map[string]DeviceFile, error) {
	opt := backup.Options{Password: func() ([]byte, error) {
		if password == "" {
			return nil, errors.New("no password given")
		}
		return []byte(password), nil
	}}
	b, err := backup.Open(dir, opt)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	out := map[string]DeviceFile{}
	buf := make([]byte, 256<<10)
	for i := 0; i < b.Index.Len(); i++ {
		e := b.Index.Entry(int32(i))
		if e.Kind != manifest.KindFile {
			continue
		}
		f, err := b.OpenFile(e)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, io.NewSectionReader(f, 0, f.Size()), buf)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", e.Domain, e.Path, err)
		}
		df := DeviceFile{Domain: e.Domain, Path: e.Path, Size: n}
		copy(df.SHA256[:], h.Sum(nil))
		out[df.Key()] = df
	}
	return out, nil
}

// restoreOptions are the Options of a Restore request, as BackupAgent2 reads them.
// Absent keys take the defaults a device assumes: reboot, nothing else.
type restoreOptions struct {
	system bool // RestoreSystemFiles: system domains too
	reboot bool // RestoreShouldReboot
	// preserveSettings is RestorePreserveSettings: true KEEPS the device's own settings
	// (the backup's are not applied). The name says so, and idevicebackup2 sends
	// RestorePreserveSettings = !--settings ("--settings: restore device settings from
	// the backup"), printing "Preserve settings of device: Yes" without it.
	// pymobiledevice3 sends its `settings` flag ("restore device settings") as is,
	// which inverts it: its default settings=True preserves the device's settings.
	preserveSettings bool
	removeOthers     bool // RemoveItemsNotRestored: delete what the backup lacks
	dontCopy         bool // RestoreDontCopyBackup: no staging copy (no effect on the result)
	password         string
}

func parseRestoreOptions(req map[string]any) restoreOptions {
	opts, _ := req["Options"].(map[string]any)
	flag := func(k string, def bool) bool {
		if v, ok := opts[k].(bool); ok {
			return v
		}
		return def
	}
	o := restoreOptions{
		system: flag("RestoreSystemFiles", false), reboot: flag("RestoreShouldReboot", true),
		preserveSettings: flag("RestorePreserveSettings", false),
		removeOthers:     flag("RemoveItemsNotRestored", false), dontCopy: flag("RestoreDontCopyBackup", false),
	}
	// libimobiledevice and pymobiledevice3 put Password inside Options; accept it at
	// the top level too, where Unback and ChangePassword carry theirs.
	if pw, ok := opts["Password"].(string); ok {
		o.password = pw
	} else if pw, ok := req["Password"].(string); ok {
		o.password = pw
	}
	return o
}

// userDomains are restored whatever RestoreSystemFiles says; every other domain
// (Keychain, Wireless, SystemPreferences, Root, SysContainer...) is a system domain.
// This split is the simulator's model of "system files", not Apple's list.
var userDomains = []string{"HomeDomain", "MediaDomain", "CameraRollDomain", "BooksDomain",
	"TonesDomain", "HealthDomain", "KeyboardDomain", "HomeKitDomain"}

func isSystemDomain(domain string) bool {
	kind, _ := manifest.SplitDomain(domain)
	switch kind {
	case "AppDomain", "AppDomainGroup", "AppDomainPlugin":
		return false
	}
	for _, d := range userDomains {
		if d == domain {
			return false
		}
	}
	return true
}

// isSetting reports whether a file is a device setting in the simulator's model: the
// preference domains and the preferences folder of the home domain.
func isSetting(f DeviceFile) bool {
	switch f.Domain {
	case "SystemPreferencesDomain", "ManagedPreferencesDomain":
		return true
	case "HomeDomain":
		return strings.HasPrefix(f.Path, "Library/Preferences/")
	}
	return false
}

// restored reports whether the options restore files like f.
func (o restoreOptions) restored(f DeviceFile) bool {
	if !o.system && isSystemDomain(f.Domain) {
		return false
	}
	return !(o.preserveSettings && isSetting(f))
}

// mergeContents is the device after a restore: the backup's files where the options
// restore them, the device's own elsewhere; with RemoveItemsNotRestored the device's
// files of restored kinds that the backup lacks are gone.
func mergeContents(device, restoredBackup map[string]DeviceFile, o restoreOptions) map[string]DeviceFile {
	out := make(map[string]DeviceFile, len(restoredBackup))
	for k, f := range device {
		if _, inBackup := restoredBackup[k]; !inBackup && o.removeOthers && o.restored(f) {
			continue
		}
		out[k] = f
	}
	for k, f := range restoredBackup {
		if o.restored(f) {
			out[k] = f
		}
	}
	return out
}
