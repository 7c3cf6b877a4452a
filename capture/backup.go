package capture

// Taking a backup: connect, check space, write Info.plist, send the Backup request,
// let the device drive the transfer through the message loop, verify and publish.

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"iosbackup/manifest"
)

// Run takes a backup of the target device into opts.Root/<UDID>: incremental when a
// complete previous backup is there (unless opts.Full), full otherwise.
func Run(ctx context.Context, opts Options) (res *Result, err error) {
	defer recoverPanic(&err)
	if opts.Root == "" {
		return nil, errors.New("no backup folder given")
	}
	rep := newReporter(opts.Progress)
	started := time.Now()

	l, err := openSession(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	udid := l.dev.udid
	vals, err := readDeviceValues(ctx, l)
	if err != nil {
		l.close()
		return nil, err
	}
	st, err := openStore(opts.Root, udid)
	if err != nil {
		l.close()
		return nil, err
	}
	defer st.close()
	st.setHistory(opts)
	// Leftovers first: a swap an earlier run left half done decides what "previous
	// backup" means.
	if err := st.recoverLeftovers(); err != nil {
		l.close()
		return nil, err
	}
	hadPrevious := previousComplete(st)
	inPlace := false
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = &InterruptedError{Dir: filepath.Join(opts.Root, udid), Intact: hadPrevious && !inPlace, Err: err}
		}
	}()
	incremental := !opts.Full && hadPrevious
	if err := checkSpace(st, vals.usedBytes, incremental, opts.SkipSpaceCheck); err != nil {
		l.close()
		return nil, err
	}
	name, _ := vals.all["DeviceName"].(string)
	version, _ := vals.all["ProductVersion"].(string)
	rep.info("Backing up %q (iOS %s, %s) to %s", name, version, udid, filepath.Join(opts.Root, udid))
	appIDs, apps := installedApps(ctx, l)
	info := infoPlist(udid, vals, appIDs, apps, time.Now())

	conn, err := startBackupService(ctx, l) // closes the lockdown session
	if err != nil {
		return nil, err
	}
	s := newSession(conn, st, rep, udid)
	if hadPrevious {
		s.prev = newPreviousNames(st)
	}
	defer s.close()
	stop := s.watch(ctx)
	defer stop()
	if err := s.handshake(ctx); err != nil {
		return nil, err
	}

	var skipped []string
	inPlace, skipped, err = st.prepare(incremental)
	if err != nil {
		return nil, err
	}
	published := false
	defer func() {
		if !published {
			if derr := st.discard(); derr != nil {
				rep.warn("Could not clean up the unfinished capture: %v", derr)
			}
		}
	}()
	if inPlace {
		rep.warn("This file system has no hard links: the device writes into %s directly; an interrupted capture may leave it partly updated", filepath.Join(opts.Root, udid))
	}
	for _, p := range skipped {
		rep.warn("Left out %s: not a regular file or folder", p)
	}
	if err := st.writeFile(udid+"/Info.plist", info); err != nil {
		return nil, err
	}
	if vals.willEncrypt {
		rep.info("The device encrypts its backups")
	} else {
		rep.info("The device does not encrypt its backups (iosbackup encryption on turns it on)")
	}
	req := map[string]any{"MessageName": "Backup", "TargetIdentifier": udid, "SourceIdentifier": udid}
	if incremental {
		rep.info("Incremental backup: only changes are transferred")
	} else {
		rep.info("Full backup")
		req["Options"] = map[string]any{"ForceFullBackup": true}
	}
	if err := s.send(processMessage(req)...); err != nil {
		return nil, s.ioErr(ctx, err)
	}
	prevSize := int64(0)
	if hadPrevious && !incremental {
		prevSize = st.backupSize() // what a full backup of this device sent last time
	}
	rep.expect(!incremental, prevSize, vals.usedBytes)
	rep.start()
	defer rep.stop()
	s.quietWait = WaitPasscode
	s.quietMsg = "Waiting for the device: unlock it and enter its passcode if it asks"
	final, err := s.loop(ctx)
	if err != nil {
		return nil, err
	}
	if err := finalError(final); err != nil {
		return nil, err
	}
	status, err := st.readTarget("Status.plist")
	if err != nil {
		return nil, fmt.Errorf("%w: no Status.plist after the backup: %v", ErrBackupFailed, err)
	}
	if !manifest.StatusComplete(status) {
		return nil, fmt.Errorf("%w: Status.plist says the snapshot is %q, not finished", ErrBackupFailed, manifest.StatusState(status))
	}
	encrypted := vals.willEncrypt
	if mp, err := st.readTarget("Manifest.plist"); err == nil {
		if m, err := manifest.ParseManifestPlist(mp); err == nil {
			encrypted = m.IsEncrypted
		}
	}
	s.goodbye()
	if err := st.publish(); err != nil {
		return nil, err
	}
	published = true
	res = &Result{
		UDID: udid, Dir: filepath.Join(opts.Root, udid), Incremental: incremental, Encrypted: encrypted,
		Files: s.files, Bytes: s.bytes, Removed: s.removed, Duration: time.Since(started), InPlace: inPlace,
	}
	rep.done()
	if err := keepHistory(st, incremental, opts.Keep, res, rep); err != nil {
		return res, err
	}
	rep.info("Backup finished: %d files, %s received in %s", res.Files, humanBytes(res.Bytes), res.Duration.Round(time.Second))
	return res, nil
}

// previousComplete reports whether the backup folder holds a finished backup.
func previousComplete(st *store) bool {
	data, err := st.readBackup("Status.plist")
	if err != nil || !manifest.StatusComplete(data) {
		return false
	}
	return st.exists(path.Join(st.udid, "Manifest.db")) || st.exists(path.Join(st.udid, "Manifest.mbdb"))
}

// checkSpace stops before the transfer when the backup cannot fit. The device's used
// space bounds a full backup; an incremental one needs at most what is not already
// in the previous backup.
func checkSpace(st *store, used int64, incremental, skip bool) error {
	if skip || used <= 0 {
		return nil
	}
	free, err := freeBytes(st.rootDir)
	if err != nil {
		return nil
	}
	need := used
	if incremental {
		need -= st.backupSize()
	}
	if need > 0 && uint64(need) > free {
		return fmt.Errorf("%w: the device holds %s, %s free in %s (need about %s more); free some space, choose another folder, or skip this check if most of the data lives in iCloud",
			ErrDiskFull, humanBytes(used), humanBytes(int64(free)), st.rootDir, humanBytes(need-int64(free)))
	}
	return nil
}
