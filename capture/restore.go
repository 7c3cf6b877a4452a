package capture

// Restoring a backup onto a device: the host checks the backup and the device, asks
// the user, then sends a Restore request and serves the files the device downloads
// (read-only) through the same DeviceLink loop a backup runs.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"iosbackup/backup"
	"iosbackup/manifest"
)

// Errors of a restore, testable with errors.Is. DeviceError maps the device's codes
// to them.
var (
	ErrRestoreFailed = errors.New("device reported that the restore failed")
	ErrFindMy        = errors.New("the device has Find My on: turn it off on the device (Settings > your name > Find My), then restore again")
	ErrRebootFirst   = errors.New("the device must be restarted first: a previous restore without a reboot is still pending (/var/.backup.i); restart it, then restore again")
	ErrDownloadFiles = errors.New("the device could not download some files of the backup")
	ErrOlderDevice   = errors.New("the device runs an older iOS than the backup: update the device first")
	ErrOtherDevice   = errors.New("the backup is of another device")
	ErrNotConfirmed  = errors.New("restore not confirmed")
)

// RestoreOptions configure Restore. The flags mean what idevicebackup2's do.
type RestoreOptions struct {
	Target
	// Backup is the opened backup to restore (unlocked, when encrypted).
	Backup *backup.Backup
	// Password of an encrypted backup: the device decrypts with it (a derived key
	// does not do). Zeroed after use.
	Password []byte
	// System also restores system files (RestoreSystemFiles).
	System bool
	// Settings restores the backup's settings; without it the device keeps its own
	// (RestorePreserveSettings is sent as !Settings, as idevicebackup2 does).
	Settings bool
	// NoReboot asks the device not to reboot when done (RestoreShouldReboot false).
	NoReboot bool
	// Remove deletes what the backup does not have (RemoveItemsNotRestored).
	Remove bool
	// Source is the UDID of the device the backup was made on, required (and checked)
	// when it is not the target: a restore onto another device must be meant.
	Source string
	// SkipApps sends no list of the backup's apps to reinstall.
	SkipApps bool
	// Confirm is called once every check passed and before anything is sent; an
	// error stops the restore with nothing sent. Nil confirms.
	Confirm func(RestorePlan) error
	// Progress receives events, as for Run.
	Progress func(Event)
}

// RestorePlan is what a restore is about to do, for the user to confirm.
type RestorePlan struct {
	DeviceUDID, DeviceName, DeviceVersion string
	Backup                                string // the backup folder
	BackupUDID, BackupName, BackupVersion string
	BackupDate                            time.Time
	Encrypted                             bool
	Files                                 int
	Bytes                                 int64
	// Only and From describe a selective restore: Backup is then the merged backup,
	// holding what Only chooses from the backup From and the device's own rest.
	Only []string
	From string
}

// RestoreResult describes a finished restore.
type RestoreResult struct {
	UDID      string        `json:"udid"`
	Backup    string        `json:"backup"`
	Files     int           `json:"files"` // files the device downloaded
	Bytes     int64         `json:"bytes"` // file data bytes sent
	Duration  time.Duration `json:"duration"`
	Rebooting bool          `json:"rebooting"` // the device reboots to finish
}

// Restore puts opts.Backup onto the target device. Nothing in the backup folder is
// ever written.
func Restore(ctx context.Context, opts RestoreOptions) (res *RestoreResult, err error) {
	defer recoverPanic(&err)
	defer clear(opts.Password)
	b := opts.Backup
	if b == nil {
		return nil, errors.New("no backup given")
	}
	rep := newReporter(opts.Progress)
	started := time.Now()

	// The backup first: nothing about the device helps an incomplete backup.
	quick, err := b.QuickCheck()
	if err != nil {
		return nil, err
	}
	if b.Encrypted && len(opts.Password) == 0 {
		return nil, errors.New("the backup is encrypted: its password is needed (the device decrypts with it)")
	}
	plan := RestorePlan{Backup: b.Dir, Encrypted: b.Encrypted, Files: quick.Files, Bytes: quick.Bytes}
	plan.BackupUDID, plan.BackupName, plan.BackupVersion, plan.BackupDate = backupIdentity(b)
	if err := checkUDID(plan.BackupUDID); err != nil {
		return nil, fmt.Errorf("%s: the backup's device identifier cannot be sent: %w", b.Dir, err)
	}

	// Then the device: its iOS, and whether the backup is its own.
	l, err := openSession(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	vals, err := readDeviceValues(ctx, l)
	l.close()
	if err != nil {
		return nil, err
	}
	plan.DeviceUDID = l.dev.udid
	plan.DeviceName, _ = vals.all["DeviceName"].(string)
	plan.DeviceVersion, _ = vals.all["ProductVersion"].(string)
	if plan.BackupVersion != "" && plan.DeviceVersion != "" && manifest.IOSVersionLess(plan.DeviceVersion, plan.BackupVersion) {
		return nil, fmt.Errorf("%w: the backup is from iOS %s, device %s runs iOS %s", ErrOlderDevice, plan.BackupVersion, plan.DeviceUDID, plan.DeviceVersion)
	}
	if err := checkSource(plan, opts.Source); err != nil {
		return nil, err
	}
	if opts.Confirm != nil {
		if err := opts.Confirm(plan); err != nil {
			return nil, err
		}
	}

	st, err := openStore(filepath.Dir(b.Dir), plan.BackupUDID)
	if err != nil {
		return nil, err
	}
	defer st.close()
	st.target = filepath.Base(b.Dir) // the device asks for SourceIdentifier/...; served from this folder

	l, err = openSession(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	if l.dev.udid != plan.DeviceUDID {
		l.close()
		return nil, fmt.Errorf("%w: another device (%s) answered than the one confirmed (%s)", ErrUnknownUDID, l.dev.udid, plan.DeviceUDID)
	}
	if !opts.SkipApps {
		if err := writeRestoreApplications(ctx, l, b); err != nil {
			rep.warn("Could not send the list of apps to reinstall (%v): app data comes back only for apps already installed", err)
		}
	}
	conn, err := startBackupService(ctx, l) // closes the lockdown session
	if err != nil {
		return nil, err
	}
	s := newSession(conn, st, rep, plan.BackupUDID)
	s.readOnly = true
	defer s.close()
	stop := s.watch(ctx)
	defer stop()
	if err := s.handshake(ctx); err != nil {
		return nil, err
	}
	rep.info("Restoring %s (iOS %s, %s) onto %q (iOS %s, %s)", b.Dir, orUnknown(plan.BackupVersion), plan.BackupUDID,
		plan.DeviceName, orUnknown(plan.DeviceVersion), plan.DeviceUDID)
	req := map[string]any{
		"MessageName":      "Restore",
		"TargetIdentifier": plan.DeviceUDID,
		"SourceIdentifier": plan.BackupUDID,
		"Options":          restoreRequestOptions(opts),
	}
	if err := s.send(processMessage(req)...); err != nil {
		return nil, s.ioErr(ctx, err)
	}
	clear(opts.Password)
	rep.expect(true, quick.Bytes, 0)
	rep.start()
	defer rep.stop()
	s.quietWait = WaitPasscode
	s.quietMsg = "Waiting for the device: unlock it and enter its passcode if it asks (it may take a minute to prepare)"
	final, err := s.loop(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("restore interrupted: the device may hold a partial restore; restart it and restore again: %w", ctx.Err())
		}
		return nil, restoreIOErr(err)
	}
	if err := restoreFinalError(final, s.sendFailed); err != nil {
		return nil, err
	}
	s.goodbye()
	res = &RestoreResult{
		UDID: plan.DeviceUDID, Backup: b.Dir, Files: s.files, Bytes: s.bytes,
		Duration: time.Since(started), Rebooting: !opts.NoReboot,
	}
	rep.done()
	msg := "the device restarts to finish; the restored data appears after the restart"
	if opts.NoReboot {
		msg = "restart the device to finish: the restored data appears after the restart, and no other restore is possible before it"
	}
	rep.info("Restore finished: %d files, %s sent in %s; %s", res.Files, humanBytes(res.Bytes), res.Duration.Round(time.Second), msg)
	return res, nil
}

// restoreRequestOptions are the Options of the Restore request, as idevicebackup2
// sends them: RestorePreserveSettings is the opposite of --settings (the device keeps
// its own settings unless asked to take the backup's), RestoreDontCopyBackup is sent
// true (no staging copy on the device: idevicebackup2 without --copy), and
// RestoreShouldReboot and RemoveItemsNotRestored only when they differ from the
// device's defaults (reboot, keep).
func restoreRequestOptions(o RestoreOptions) map[string]any {
	m := map[string]any{
		"RestoreSystemFiles":      o.System,
		"RestoreDontCopyBackup":   true,
		"RestorePreserveSettings": !o.Settings,
	}
	if o.NoReboot {
		m["RestoreShouldReboot"] = false
	}
	if o.Remove {
		m["RemoveItemsNotRestored"] = true
	}
	if len(o.Password) > 0 {
		m["Password"] = string(o.Password)
	}
	return m
}

// checkSource refuses another device's backup unless --source names that device.
func checkSource(p RestorePlan, source string) error {
	same := strings.EqualFold(p.BackupUDID, p.DeviceUDID)
	switch {
	case source != "" && !strings.EqualFold(source, p.BackupUDID):
		return fmt.Errorf("%w: --source %s, but %s is a backup of %s", ErrOtherDevice, source, p.Backup, p.BackupUDID)
	case !same && source == "":
		return fmt.Errorf("%w: %s is a backup of %s, the device is %s; to restore it onto this device anyway, add --source %s",
			ErrOtherDevice, p.Backup, p.BackupUDID, p.DeviceUDID, p.BackupUDID)
	}
	return nil
}

// backupIdentity reads who and what a backup is of: Info.plist, else Manifest.plist's
// Lockdown, else the folder's name for the UDID.
func backupIdentity(b *backup.Backup) (udid, name, version string, date time.Time) {
	if b.Info != nil {
		udid = firstNonEmpty(b.Info.TargetIdentifier, b.Info.UniqueIdentifier)
		name = firstNonEmpty(b.Info.DeviceName, b.Info.DisplayName)
		version, date = b.Info.ProductVersion, b.Info.LastBackupDate
	}
	if b.Manifest != nil {
		name = firstNonEmpty(name, b.Manifest.Lockdown.DeviceName)
		version = firstNonEmpty(version, b.Manifest.Lockdown.ProductVersion)
		udid = firstNonEmpty(udid, b.Manifest.Lockdown.UniqueDeviceID)
		if date.IsZero() {
			date = b.Manifest.Date
		}
	}
	return firstNonEmpty(udid, filepath.Base(b.Dir)), name, version, date
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func orUnknown(s string) string { return firstNonEmpty(s, "unknown") }

// restoreIOErr names a lost connection for what it means to a restore.
func restoreIOErr(err error) error {
	if errors.Is(err, ErrDisconnected) {
		return fmt.Errorf("%w during the restore: the device may hold a partial restore; reconnect it, restart it, and restore again", err)
	}
	return err
}

// restoreFinalError interprets the device's closing message of a restore; failed
// are the files the host could not send.
func restoreFinalError(d map[string]any, failed []string) error {
	err := finalError(d)
	var de *DeviceError
	if errors.As(err, &de) {
		de.Restore = true
		if de.Code == 205 {
			de.Files = failed
		}
	}
	return err
}
