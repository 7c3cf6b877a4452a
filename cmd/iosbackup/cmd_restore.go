package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"iosbackup/backup"
	"iosbackup/capture"
	"iosbackup/decrypt"
)

// Exit statuses of restore, beside 0, 1, 2 and 3 (wrong password): a script tells
// what to do next from them (see the README).
const (
	exitRestoreIncomplete   = 10 // the backup is incomplete: nothing was sent
	exitRestoreOtherDevice  = 11 // a backup of another device without (or with a wrong) --source
	exitRestoreOlderDevice  = 12 // the device runs an older iOS than the backup
	exitRestoreNotConfirmed = 13 // not confirmed (answer, or no terminal and no --yes)
	exitRestoreFindMy       = 14 // Find My is on (device error 211)
	exitRestoreRebootFirst  = 15 // a previous restore waits for a reboot (device error 102)
	exitRestoreDownloads    = 16 // the device could not download files (device error 205)
	exitRestoreDisconnected = 17 // the device went away during the restore
)

// codedError carries its own exit status.
type codedError struct {
	code int
	err  error
}

func (c codedError) Error() string { return c.err.Error() }
func (c codedError) Unwrap() error { return c.err }

// restoreExit gives a restore's error its exit status.
func restoreExit(err error) error {
	for _, m := range []struct {
		target error
		code   int
	}{
		{capture.ErrWrongPassword, exitWrongPassword},
		{decrypt.ErrWrongPassword, exitWrongPassword},
		{backup.ErrIncomplete, exitRestoreIncomplete},
		{backup.ErrOverlayUnsupported, exitError},
		{capture.ErrOtherDevice, exitRestoreOtherDevice},
		{capture.ErrOlderDevice, exitRestoreOlderDevice},
		{capture.ErrNotConfirmed, exitRestoreNotConfirmed},
		{capture.ErrFindMy, exitRestoreFindMy},
		{capture.ErrRebootFirst, exitRestoreRebootFirst},
		{capture.ErrDownloadFiles, exitRestoreDownloads},
		{capture.ErrDisconnected, exitRestoreDisconnected},
	} {
		if errors.Is(err, m.target) {
			return codedError{m.code, err}
		}
	}
	return err
}

type restoreFlags struct {
	d                                           deviceFlags
	u                                           unlockFlags
	system, settings, noReboot, remove, skipApp bool
	source                                      string
	yes                                         bool
	only                                        []string
	keepMerged                                  string
	progress                                    string
	asJSON                                      bool
}

func newRestoreCmd() *cobra.Command {
	var f restoreFlags
	cmd := &cobra.Command{
		Use:   "restore BACKUP",
		Short: "Put a backup back onto a connected device (replaces the data on it)",
		Long: `Restore BACKUP (a backup folder, a UDID or a device-name prefix) onto a connected
iPhone or iPad, with the device's own backup service, as Finder and idevicebackup2 do.
The data on the device is replaced; the backup folder is only read.

Before anything is sent: the backup must be complete (a finished Status.plist, every
file's contents present), the device must run the backup's iOS version or newer, a
backup of another device needs --source with that device's UDID, an encrypted backup
needs its password (prompt, --password-file or IOSBACKUP_PASSWORD: the device decrypts
with it), and you confirm on the terminal (or pass --yes).

With --only GLOB, only what the patterns choose comes from BACKUP and the rest of the
device stays as it is now: the device is captured first, the chosen files of BACKUP are
laid over that fresh backup (in a temporary folder, or --keep-merged DIR), and the merged
backup is restored. Plain (unencrypted) backups only, for now.

Turn off Find My on the device first. The device restarts when done (unless
--no-reboot) and the restored data appears after the restart.

Exit status: 0 restored, 1 other error, 2 usage, 3 wrong password (here or on the
device), 10 backup incomplete, 11 backup of another device (see --source), 12 device
runs an older iOS, 13 not confirmed, 14 Find My is on, 15 restart the device first (a
restore without reboot is pending), 16 the device could not download files, 17 the
device disconnected during the restore.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return restoreExit(runRestore(cmd, args[0], &f))
		},
	}
	f.d.register(cmd)
	f.u.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&f.system, "system", false, "also restore system files")
	fl.BoolVar(&f.settings, "settings", false, "restore the device's settings from the backup (default: the device keeps its own)")
	fl.BoolVar(&f.noReboot, "no-reboot", false, "do not restart the device when done (the restore completes at the next restart)")
	fl.BoolVar(&f.remove, "remove", false, "remove what is on the device but not in the backup")
	fl.StringVarP(&f.source, "source", "s", "", "the `UDID` of the device the backup was made on, to restore it onto another device")
	fl.BoolVar(&f.skipApp, "skip-apps", false, "do not ask the device to reinstall the backup's apps")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation (for scripts)")
	fl.StringArrayVar(&f.only, "only", nil, "restore only what this `GLOB` chooses (DOMAIN, DOMAIN/PATH, e.g. 'AppDomain-com.example.*'; repeatable), keeping the rest of the device as it is now (plain backups only)")
	fl.StringVar(&f.keepMerged, "keep-merged", "", "with --only: keep the merged backup in `DIR` (default: removed)")
	fl.StringVar(&f.progress, "progress", "auto", "progress display: `auto` (a bar on a terminal, else plain lines), bar, plain, none")
	fl.BoolVar(&f.asJSON, "json", false, "print progress events and the result as JSON lines on standard output")
	return cmd
}

func runRestore(cmd *cobra.Command, arg string, f *restoreFlags) error {
	if f.keepMerged != "" && len(f.only) == 0 {
		return usageError{errors.New("--keep-merged goes with --only")}
	}
	if f.u.keyHex != "" || f.u.keyFile != "" {
		return usageError{errors.New("restore needs the backup password itself (the device decrypts with it): --key and --key-file cannot be used")}
	}
	dir, err := backup.ResolveIn(arg, f.u.rootDirs())
	if err != nil {
		return err
	}
	// The password is read once: it unlocks the backup here, then goes to the device.
	var pw []byte
	defer func() { clear(pw) }()
	b, err := backup.Open(dir, backup.Options{
		Warn:     func(s string) { warnf("%s", s) },
		Deriving: kdfNotice,
		Password: func() ([]byte, error) {
			p, err := f.u.password()
			if err != nil {
				return nil, err
			}
			pw = append([]byte(nil), p...)
			return p, nil
		},
	})
	if err != nil {
		return err
	}
	defer b.Close()
	confirm := confirmOnTerminal
	if f.yes {
		confirm = nil
	}
	r, err := newRenderer(f.progress, f.asJSON, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	r.sending = true
	ctx, cancel := interruptible()
	defer cancel()
	ro := capture.RestoreOptions{
		Target: f.d.target(), Backup: b, Password: pw,
		System: f.system, Settings: f.settings, NoReboot: f.noReboot, Remove: f.remove,
		Source: f.source, SkipApps: f.skipApp, Confirm: confirm, Progress: r.event,
	}
	var res *capture.RestoreResult
	if len(f.only) > 0 {
		res, err = capture.RestoreSelective(ctx, capture.SelectiveOptions{RestoreOptions: ro, Only: f.only, KeepMerged: f.keepMerged})
	} else {
		res, err = capture.Restore(ctx, ro)
	}
	r.finish()
	if err != nil {
		return err
	}
	if f.asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(restoreResultJSON{
			UDID: res.UDID, Path: res.Backup, Files: res.Files, SentBytes: res.Bytes,
			DurationSeconds: seconds(res.Duration), Rebooting: res.Rebooting,
		})
	}
	fmt.Fprintf(os.Stderr, "restored %s onto %s in %s: %d files, %s sent\n",
		res.Backup, res.UDID, res.Duration.Round(time.Second), res.Files, humanBytes(res.Bytes))
	return nil
}

type restoreResultJSON struct {
	UDID            string  `json:"udid"`
	Path            string  `json:"path"`
	Files           int     `json:"files"`
	SentBytes       int64   `json:"sent_bytes"`
	DurationSeconds float64 `json:"duration_seconds"`
	Rebooting       bool    `json:"rebooting"`
}

// confirmOnTerminal asks on the controlling terminal, naming device and backup: a
// restore replaces what is on the device. Without a terminal it refuses (--yes is for
// scripts), so a pipe can never say yes by accident.
func confirmOnTerminal(p capture.RestorePlan) error {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("%w: no terminal to ask on; pass --yes to restore without asking", capture.ErrNotConfirmed)
	}
	defer tty.Close()
	return confirmOn(tty, tty, p)
}

func confirmOn(in io.Reader, out io.Writer, p capture.RestorePlan) error {
	date := "unknown date"
	if !p.BackupDate.IsZero() {
		date = p.BackupDate.Local().Format("2006-01-02 15:04")
	}
	enc := ""
	if p.Encrypted {
		enc = ", encrypted"
	}
	if len(p.Only) > 0 {
		fmt.Fprintf(out, "Restore %s from the backup %s, with the rest of the device as it is now,\n  merged in %s\n",
			strings.Join(p.Only, ", "), p.From, p.Backup)
	} else {
		fmt.Fprintf(out, "Restore the backup %s\n", p.Backup)
	}
	fmt.Fprintf(out, "  of %q (%s, iOS %s, %s%s; %d files, %s)\n",
		p.BackupName, p.BackupUDID, orDash(p.BackupVersion), date, enc, p.Files, humanBytes(p.Bytes))
	fmt.Fprintf(out, "onto the device %q (%s, iOS %s)?\nThe data on the device will be replaced. Type yes to go on: ",
		p.DeviceName, p.DeviceUDID, orDash(p.DeviceVersion))
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "yes", "y":
		return nil
	}
	return fmt.Errorf("%w: nothing was sent to the device", capture.ErrNotConfirmed)
}
