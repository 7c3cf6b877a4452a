package devicesim

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"iosbackup/backup"
	"iosbackup/decrypt"
	"iosbackup/manifest"
)

// The device side of a mobilebackup2 Restore, as BackupAgent2 does it: it pulls the
// backup's plists and manifest from the host with DLMessageDownloadFiles, checks them
// (finished snapshot, iOS version, password), then pulls every blob the manifest
// lists, and finally replaces its contents with the backup's.

// Error codes and descriptions as devices report them (MBErrorDomain), quoted in
// libimobiledevice's issue tracker (#726, #787, #801, #1155) and other hosts' reports.
const (
	descFindMy    = "Find My iPhone must be disabled before restoring (MBErrorDomain/211)"
	descBackupI   = `Error moving incomplete restore directory into place at path "/var/.backup.i" (MBErrorDomain/102). Underlying error: “.backup.i” couldn’t be moved to “var” because an item with the same name already exists. at path "/var/.backup.i" (NSCocoaErrorDomain/516). Underlying error: The operation couldn’t be completed. File exists (NSPOSIXErrorDomain/17)..`
	descPassword  = "Invalid password when restoring encrypted backup (MBErrorDomain/207). Underlying error: MKBKeyBagUnlock error (-3) (MBErrorDomain/207)."
	descDownloads = "Multiple errors downloading files (MBErrorDomain/205)"
	errFindMy     = 211
	errBackupI    = 102
	errPassword   = 207
	errDownloads  = 205
	// errTooNew: no public source we read quotes what a device answers to a backup of a
	// newer iOS (hosts check the versions before asking); 1 is MBErrorDomain's generic
	// failure.
	errTooNew = 1
	// downloadBatch is how many paths one DLMessageDownloadFiles asks for.
	downloadBatch = 500
)

// RestoreRecord is what the device did in its last Restore.
type RestoreRecord struct {
	Target, Source string
	Options        map[string]any // as sent, Password removed
	Files          int            // blobs received
	Bytes          int64          // bytes received (plists and manifest included)
	ErrorCode      int            // the final ErrorCode sent
	// Transfer is the time from the request to the last file received, without the
	// device's own work afterwards (reading the restored backup).
	Transfer time.Duration
	// Total is the time from the request to the final message.
	Total time.Duration
}

// restore performs one Restore request.
func (s *Sim) restore(d *dl, req map[string]any) error {
	target, _ := req["TargetIdentifier"].(string)
	srcID, _ := req["SourceIdentifier"].(string)
	if srcID == "" {
		srcID = target
	}
	if srcID == "" || srcID != path.Base(srcID) || srcID == "." || srcID == ".." {
		return d.finish(1, "Invalid SourceIdentifier")
	}
	start := time.Now()
	o := parseRestoreOptions(req)
	rec := &RestoreRecord{Target: target, Source: srcID, Options: map[string]any{}}
	if opts, ok := req["Options"].(map[string]any); ok {
		for k, v := range opts {
			if k != "Password" {
				rec.Options[k] = v
			}
		}
	}
	faults := s.currentFaults()
	d.limit, d.received = faults.DisconnectAfter, 0
	s.mu.Lock()
	s.stats.Sessions++
	s.mu.Unlock()
	defer func() {
		// Published once done, however it ends: readers never see it half written.
		r := *rec
		s.mu.Lock()
		s.lastRestore = &r
		s.mu.Unlock()
	}()
	fail := func(code int, desc string) error {
		rec.ErrorCode, rec.Total = code, time.Since(start)
		return d.finish(code, desc)
	}
	if faults.FindMy {
		return fail(errFindMy, descFindMy)
	}
	if faults.PasscodeWait > 0 {
		// The device asks for the passcode, or prepares (a minute, libimobiledevice
		// #1412), before it asks for the first file.
		time.Sleep(faults.PasscodeWait)
	}

	staging, err := os.MkdirTemp(s.stateRoot(), "restore-")
	if err != nil {
		return fail(1, err.Error())
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(staging)
		}
	}()

	// Which manifest the backup has: the device lists the host's folder (a host that
	// cannot list it leaves the device to its own generation's format).
	manifestName := s.manifestFor(d, srcID)

	// The plists and the manifest first, in the order devices ask for them.
	heads := []string{"Status.plist", "Manifest.plist", manifestName, "Info.plist"}
	got, err := d.downloadTo(prefixed(srcID, heads), staging, srcID)
	if err != nil {
		return err
	}
	rec.Bytes = d.received
	s.recordDownloadNames(got)
	for _, name := range []string{"Status.plist", "Manifest.plist"} {
		if _, ok := got[srcID+"/"+name]; !ok {
			return fail(errDownloads, descDownloads)
		}
	}
	status, err := os.ReadFile(filepath.Join(staging, "Status.plist"))
	if err != nil || !snapshotFinished(status) {
		return fail(1, "Backup is not complete (Status.plist SnapshotState is not finished)")
	}
	mp, err := readManifestPlist(staging)
	if err != nil {
		return fail(1, err.Error())
	}
	if v := backupVersion(staging, mp); v != "" && manifest.IOSVersionLess(s.productVersion(), v) {
		return fail(errTooNew, fmt.Sprintf("This backup is from iOS %s, newer than the iOS %s on this device", v, s.productVersion()))
	}
	if _, ok := got[srcID+"/"+manifestName]; !ok {
		return fail(errDownloads, descDownloads)
	}
	if mp.IsEncrypted {
		if faults.RejectPassword || !passwordOpens(mp.BackupKeyBag, o.password) {
			return fail(errPassword, descPassword)
		}
	}

	// Then every blob the manifest lists.
	b, err := backup.Open(staging, backup.Options{Password: func() ([]byte, error) { return []byte(o.password), nil }})
	if err != nil {
		return fail(1, err.Error())
	}
	var blobs []string
	var total int64
	for i := 0; i < b.Index.Len(); i++ {
		e := b.Index.Entry(int32(i))
		if e.Kind == manifest.KindFile {
			rel, _ := filepath.Rel(staging, b.BlobPath(e))
			blobs = append(blobs, filepath.ToSlash(rel))
			total += max(e.Size, 0) // the manifest's claim: close enough for progress
		}
	}
	b.Close() // only its index was needed: the blobs are not there yet
	sort.Strings(blobs)
	missing, headBytes := 0, d.received
	for start := 0; start < len(blobs); start += downloadBatch {
		batch := blobs[start:min(start+downloadBatch, len(blobs))]
		d.progress = downloadPercent(d.received-headBytes, total)
		got, err := d.downloadTo(prefixed(srcID, batch), staging, srcID)
		if err != nil {
			return err
		}
		missing += len(batch) - len(got)
		rec.Files += len(got)
	}
	rec.Bytes, rec.Transfer = d.received, time.Since(start)
	if missing > 0 {
		return fail(errDownloads, descDownloads)
	}

	// Into place: /var/.backup.i is left by a restore the device did not reboot after.
	s.mu.Lock()
	pending := s.backupI
	s.mu.Unlock()
	if pending {
		return fail(errBackupI, descBackupI)
	}
	restored, err := readContents(staging, o.password)
	if err != nil {
		return fail(errDownloads, err.Error())
	}
	device, err := s.Contents()
	if err != nil {
		s.logf("restore: the device's previous contents are unreadable (%v): taken as empty", err)
		device = nil
	}
	merged := mergeContents(device, restored, o)
	s.mu.Lock()
	prevSource := s.source
	s.mu.Unlock()
	composed, err := composeImage(staging, prevSource, merged, restored)
	if err != nil {
		return fail(1, fmt.Sprintf("devicesim: compose the device's backup: %v", err))
	}
	if !composed && !maps.Equal(merged, restored) {
		s.logf("restore: partial restore of a backup that is not plain Manifest.db: the next backup serves it as received")
	}
	keep = true
	s.mu.Lock()
	old := s.restoredDir
	s.contents = merged
	s.source, s.restoredDir = staging, staging
	// Backup encryption follows the restored backup, so that the backups the device
	// serves from now on (the restored one) match what WillEncrypt says.
	s.willEncrypt, s.password = mp.IsEncrypted, ""
	if mp.IsEncrypted {
		s.password = o.password
	}
	s.backupI = !o.reboot
	if o.reboot {
		s.stats.Reboots++
	}
	s.mu.Unlock()
	if old != "" {
		os.RemoveAll(old)
	}
	return fail(0, "")
}

// manifestFor picks the manifest to download from the host's listing of the backup
// folder: the device's own generation's when the backup has both.
func (s *Sim) manifestFor(d *dl, srcID string) string {
	own, other := "Manifest.db", "Manifest.mbdb"
	if manifest.IOSMajor(s.productVersion()) < 10 {
		own, other = other, own
	}
	val, err := d.request("DLContentsOfDirectory", srcID)
	if err != nil {
		s.logf("restore: listing %s: %v", srcID, err)
		return own
	}
	entries, _ := val.(map[string]any)
	if _, ok := entries[own]; !ok {
		if _, ok := entries[other]; ok {
			return other
		}
	}
	return own
}

func prefixed(udid string, rels []string) []string {
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = udid + "/" + r
	}
	return out
}

// backupVersion is the iOS version a backup was made on: Manifest.plist's Lockdown
// dictionary, else Info.plist.
func backupVersion(dir string, mp *manifest.ManifestPlist) string {
	if mp.Lockdown.ProductVersion != "" {
		return mp.Lockdown.ProductVersion
	}
	v, _ := readInfo(dir)["Product Version"].(string)
	return v
}

// passwordOpens reports whether password unlocks the keybag, as MKBKeyBagUnlock does
// on the device.
func passwordOpens(keybag []byte, password string) bool {
	if password == "" {
		return false
	}
	kb, err := decrypt.ParseKeybag(keybag)
	if err != nil {
		return false
	}
	kek, err := kb.DeriveKEK([]byte(password))
	if err != nil {
		return false
	}
	_, err = kb.Unlock(kek)
	return err == nil
}

// Contents returns the files on the device: after a restore, what it restored (merged
// with what it had, as the options say); before, the files of the backup it started
// with (read with its password when encrypted).
//
// The backup the device serves after a restore holds the same files when both the
// restored backup and the one the device served before are plain Manifest.db
// backups (see composeImage). Otherwise it is the restored backup as received: when
// the options kept some of the device's own files (no RestoreSystemFiles, preserved
// settings, no RemoveItemsNotRestored), Contents shows them but a backup does not.
func (s *Sim) Contents() (map[string]DeviceFile, error) {
	s.mu.Lock()
	cur, src, pw := s.contents, s.source, s.password
	s.mu.Unlock()
	if cur != nil {
		out := make(map[string]DeviceFile, len(cur))
		for k, v := range cur {
			out[k] = v
		}
		return out, nil
	}
	c, err := readContents(src, pw)
	if err != nil {
		return nil, fmt.Errorf("devicesim: contents of %s: %w", src, err)
	}
	return c, nil
}

// LastRestore returns what the last Restore request did (nil before any).
func (s *Sim) LastRestore() *RestoreRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastRestore == nil {
		return nil
	}
	r := *s.lastRestore
	return &r
}

// Reboot clears what a reboot clears: /var/.backup.i of a restore without reboot.
func (s *Sim) Reboot() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backupI = false
	s.stats.Reboots++
}

// stateRoot is the folder the device keeps restored backups in, made on first use and
// removed by Close.
func (s *Sim) stateRoot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stateDir == "" {
		dir, err := os.MkdirTemp("", "devicesim-state-")
		if err != nil {
			return os.TempDir()
		}
		s.stateDir = dir
	}
	return s.stateDir
}

func (s *Sim) recordDownloadNames(got map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range got {
		s.stats.Downloaded = append(s.stats.Downloaded, p)
	}
	sort.Strings(s.stats.Downloaded)
}
