package capture_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"iosbackup/backup"
	"iosbackup/capture"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// restoreUDID is the device the restore tests' backups are of.
const restoreUDID = "00008030-0011223344556677"

const restorePassword = "restore-pw"

// The backup a restore test restores (revision 0) and the one the device holds before
// (another seed: every file differs), both of restoreUDID.
func restoreWanted(t testing.TB, encrypted bool) string {
	opt := gen.Options{Seed: 21, Entries: 400, UDID: restoreUDID}
	name := "restore-wanted"
	if encrypted {
		opt.Encrypted, opt.Password, opt.SHA256Rounds, opt.SHA1Rounds = true, restorePassword, 1000, 10
		name += "-enc"
	}
	return genBackup(t, name, opt)
}

func restoreBefore(t testing.TB) string {
	return genBackup(t, "restore-before", gen.Options{Seed: 22, Entries: 300, UDID: restoreUDID})
}

// copyBackup copies a fixture into a fresh ROOT/<folder> so a test can prove it unchanged
// (or damage it) without touching the shared one.
func copyBackup(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), restoreUDID)
	copyTree(t, src, dst)
	return dst
}

func openForRestore(t testing.TB, dir, password string) *backup.Backup {
	t.Helper()
	b, err := backup.Open(dir, backup.Options{Password: func() ([]byte, error) { return []byte(password), nil }})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// restoreOpts is a whole restore: system files, the backup's settings, and nothing
// the backup lacks kept, so the device ends up holding exactly the backup.
func restoreOpts(sim *devicesim.Sim, b *backup.Backup, password string) capture.RestoreOptions {
	o := capture.RestoreOptions{Target: target(sim), Backup: b, System: true, Settings: true, Remove: true}
	if password != "" {
		o.Password = []byte(password)
	}
	return o
}

// contentDigests reads every file of a backup through the backup package (decrypting
// when encrypted): DOMAIN/PATH -> SHA-256 of the contents.
func contentDigests(t testing.TB, dir, password string) map[string]string {
	t.Helper()
	b := openForRestore(t, dir, password)
	out := map[string]string{}
	for i := 0; i < b.Index.Len(); i++ {
		e := b.Index.Entry(int32(i))
		if e.Kind != manifest.KindFile {
			continue
		}
		f, err := b.OpenFile(e)
		if err != nil {
			t.Fatalf("%s: %s/%s: %v", dir, e.Domain, e.Path, err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, f.Size())); err != nil {
			t.Fatalf("%s: read %s/%s: %v", dir, e.Domain, e.Path, err)
		}
		f.Close()
		out[e.Domain+"/"+e.Path] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func assertSameContents(t testing.TB, want, got map[string]string, what string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the restored backup has no files: nothing was compared")
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s: want %.12s, got %.12q", what, k, v, got[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s is not in the restored backup", what, k)
		}
	}
}

// A restore puts the backup on the device: a capture afterwards returns every file of
// the restored backup, byte for byte, and the backup folder is unchanged, for a plain
// and an encrypted backup.
func TestRestoreThenCaptureReturnsTheBackup(t *testing.T) {
	for _, enc := range []bool{false, true} {
		name, pw := "plain", ""
		if enc {
			name, pw = "encrypted", restorePassword
		}
		t.Run(name, func(t *testing.T) {
			src := copyBackup(t, restoreWanted(t, enc))
			before := snapshotTree(t, src)
			sim := startSim(t, restoreBefore(t), devicesim.Config{UDID: restoreUDID})
			var ev events
			o := restoreOpts(sim, openForRestore(t, src, pw), pw)
			o.Progress = ev.add
			confirmed := 0
			o.Confirm = func(p capture.RestorePlan) error {
				confirmed++
				if p.DeviceUDID != restoreUDID || p.Backup != src || p.Encrypted != enc || p.Files == 0 {
					t.Errorf("plan to confirm: %+v", p)
				}
				return nil
			}
			res, err := capture.Restore(context.Background(), o)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if confirmed != 1 {
				t.Errorf("confirmation asked %d times", confirmed)
			}
			want := contentDigests(t, src, pw)
			rec := lastRestore(sim)
			if rec == nil || rec.ErrorCode != 0 || rec.Files+4 != res.Files || rec.Files != len(want) {
				t.Errorf("device record %+v, result %+v, backup files %d", rec, res, len(want))
			}
			if opts := rec.Options; opts["RestoreSystemFiles"] != true || opts["RestorePreserveSettings"] != false || opts["RemoveItemsNotRestored"] != true || opts["RestoreShouldReboot"] != nil {
				t.Errorf("options as the device got them: %v", opts)
			}
			if !sawProgress(ev.list) {
				t.Error("no progress event with bytes")
			}

			root := t.TempDir()
			if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
				t.Fatalf("capture after the restore: %v", err)
			}
			assertSameContents(t, want, contentDigests(t, filepath.Join(root, restoreUDID), pw), "captured after the restore")
			assertUnchanged(t, src, before)
		})
	}
}

func sawProgress(list []capture.Event) bool {
	for _, e := range list {
		if e.Kind == capture.EventProgress && e.Bytes > 0 && e.Expected > 0 {
			return true
		}
	}
	return false
}

func assertUnchanged(t testing.TB, dir string, before map[string]string) {
	t.Helper()
	after := snapshotTree(t, dir)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed during the restore", filepath.Join(dir, k))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared during the restore", filepath.Join(dir, k))
		}
	}
}

// What the device refuses, and what the host refuses before sending anything, each
// with its own error and a message that says what to do; the backup never changes.
func TestRestoreFaults(t *testing.T) {
	cases := []struct {
		name    string
		cfg     devicesim.Config
		setup   func(t *testing.T, src string, o *capture.RestoreOptions, sim *devicesim.Sim)
		want    error
		message string
		sent    bool // the Restore request reached the device
	}{
		{name: "find my", cfg: devicesim.Config{Faults: devicesim.Faults{FindMy: true}}, want: capture.ErrFindMy, message: "turn it off", sent: true},
		{name: "wrong password", cfg: devicesim.Config{Faults: devicesim.Faults{RejectPassword: true}}, want: capture.ErrWrongPassword, message: "wrong backup password", sent: true},
		{name: "disconnect", cfg: devicesim.Config{Faults: devicesim.Faults{DisconnectAfter: 20000}}, want: capture.ErrDisconnected, message: "restart it, and restore again", sent: true},
		{name: "reboot first", setup: func(t *testing.T, src string, o *capture.RestoreOptions, sim *devicesim.Sim) {
			first := *o
			first.NoReboot, first.Password = true, append([]byte(nil), o.Password...)
			if _, err := capture.Restore(context.Background(), first); err != nil {
				t.Fatalf("first restore: %v", err)
			}
		}, want: capture.ErrRebootFirst, message: "restarted first", sent: true},
		{name: "older device", cfg: devicesim.Config{ProductVersion: "12.5"}, want: capture.ErrOlderDevice, message: "from iOS 14.8, device " + restoreUDID + " runs iOS 12.5"},
		{name: "other device", cfg: devicesim.Config{UDID: "00008030-00AAAAAAAAAAAAAA"}, want: capture.ErrOtherDevice, message: "add --source " + restoreUDID},
		{name: "wrong source", setup: func(t *testing.T, src string, o *capture.RestoreOptions, sim *devicesim.Sim) {
			o.Source = "00008030-00BBBBBBBBBBBBBB"
		}, want: capture.ErrOtherDevice, message: "is a backup of " + restoreUDID},
		{name: "missing blob", setup: func(t *testing.T, src string, o *capture.RestoreOptions, sim *devicesim.Sim) {
			b := o.Backup
			for i := 0; i < b.Index.Len(); i++ {
				if e := b.Index.Entry(int32(i)); e.Kind == manifest.KindFile {
					if err := os.Remove(b.BlobPath(e)); err != nil {
						t.Fatal(err)
					}
					return
				}
			}
		}, want: backup.ErrIncomplete, message: "blob-missing"},
		{name: "not confirmed", setup: func(t *testing.T, src string, o *capture.RestoreOptions, sim *devicesim.Sim) {
			o.Confirm = func(capture.RestorePlan) error { return capture.ErrNotConfirmed }
		}, want: capture.ErrNotConfirmed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := copyBackup(t, restoreWanted(t, true))
			cfg := c.cfg
			if cfg.UDID == "" {
				cfg.UDID = restoreUDID
			}
			sim := startSim(t, restoreBefore(t), cfg)
			o := restoreOpts(sim, openForRestore(t, src, restorePassword), restorePassword)
			if c.setup != nil {
				c.setup(t, src, &o, sim)
			}
			before := snapshotTree(t, src)
			sim.ResetStats()
			_, err := capture.Restore(context.Background(), o)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("message %q lacks %q", err, c.message)
			}
			if sent := sim.Stats().Sessions > 0; sent != c.sent {
				t.Errorf("Restore request sent: %v, want %v", sent, c.sent)
			}
			assertUnchanged(t, src, before)
		})
	}
}

// Another device's backup restores with Source naming that device.
func TestRestoreOtherDeviceWithSource(t *testing.T) {
	src := copyBackup(t, restoreWanted(t, false))
	sim := startSim(t, restoreBefore(t), devicesim.Config{UDID: "00008030-00AAAAAAAAAAAAAA"})
	o := restoreOpts(sim, openForRestore(t, src, ""), "")
	o.Source = restoreUDID
	if _, err := capture.Restore(context.Background(), o); err != nil {
		t.Fatalf("restore with Source: %v", err)
	}
	if rec := lastRestore(sim); rec == nil || rec.Source != restoreUDID || rec.Target != "00008030-00AAAAAAAAAAAAAA" {
		t.Errorf("device record %+v", rec)
	}
}

// Without System, Settings and Remove the options are idevicebackup2's defaults, and
// the backup's app list reaches the device.
func TestRestoreDefaultOptionsAndApps(t *testing.T) {
	src := copyBackup(t, restoreWanted(t, false))
	sim := startSim(t, restoreBefore(t), devicesim.Config{UDID: restoreUDID})
	o := capture.RestoreOptions{Target: target(sim), Backup: openForRestore(t, src, ""), NoReboot: true}
	if _, err := capture.Restore(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	opts := lastRestore(sim).Options
	want := map[string]any{"RestoreSystemFiles": false, "RestorePreserveSettings": true,
		"RestoreShouldReboot": false, "RestoreDontCopyBackup": true}
	if !maps.Equal(opts, want) {
		t.Errorf("options %v, want %v (idevicebackup2 restore --no-reboot)", opts, want)
	}
	apps := readPlistBytes(t, sim.AFCFile("/iTunesRestore/RestoreApplications.plist"))
	info := readPlist(t, filepath.Join(src, "Info.plist"))
	infoApps, _ := info["Applications"].(map[string]any)
	if len(infoApps) == 0 || len(apps) != len(infoApps) {
		t.Errorf("RestoreApplications.plist has %d apps, Info.plist %d", len(apps), len(infoApps))
	}
}

func readPlistBytes(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if _, err := plist.Unmarshal(data, &m); err != nil {
		t.Fatalf("plist of %d bytes: %v", len(data), err)
	}
	return m
}

// lastRestore waits for the device's record of its last restore: the simulator
// publishes it after sending its final message, so it may lag the host's return.
func lastRestore(sim *devicesim.Sim) *devicesim.RestoreRecord {
	for {
		if r := sim.LastRestore(); r != nil {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The device's waits reach the user: a passcode it waits for before its first
// download, and a locked device (nothing is sent then).
func TestRestoreWaits(t *testing.T) {
	defer capture.SetQuietAfter(100 * time.Millisecond)()
	src := copyBackup(t, restoreWanted(t, false))
	sim := startSim(t, restoreBefore(t), devicesim.Config{UDID: restoreUDID, Faults: devicesim.Faults{PasscodeWait: 600 * time.Millisecond}})
	var ev events
	o := restoreOpts(sim, openForRestore(t, src, ""), "")
	o.Progress = ev.add
	if _, err := capture.Restore(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if w := ev.waits(); len(w) == 0 || w[0] != capture.WaitPasscode {
		t.Errorf("waits during the restore: %v, want enter the passcode", w)
	}

	sim.SetFaults(devicesim.Faults{Locked: true})
	sim.ResetStats()
	ev = events{}
	o.Progress = ev.add
	_, err := capture.Restore(context.Background(), o)
	if !errors.Is(err, capture.ErrDeviceLocked) || !strings.Contains(err.Error(), "unlock it") {
		t.Fatalf("locked device: %v", err)
	}
	if w := ev.waits(); len(w) == 0 || w[0] != capture.WaitUnlock {
		t.Errorf("waits for a locked device: %v, want unlock", w)
	}
	if n := sim.Stats().Sessions; n != 0 {
		t.Errorf("a locked device got %d Restore requests", n)
	}
}

// Ctrl-C once the Restore request is sent (the device waits for its passcode) ends
// the restore with an error that says so, closes the device session and leaves the
// backup as it was; the next restore runs.
func TestRestoreInterrupted(t *testing.T) {
	defer capture.SetQuietAfter(50 * time.Millisecond)()
	src := copyBackup(t, restoreWanted(t, false))
	before := snapshotTree(t, src)
	sim := startSim(t, restoreBefore(t), devicesim.Config{UDID: restoreUDID, Faults: devicesim.Faults{PasscodeWait: 300 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := restoreOpts(sim, openForRestore(t, src, ""), "")
	o.Progress = func(e capture.Event) {
		if e.Kind == capture.EventWait {
			cancel() // the user gives up while the device waits
		}
	}
	_, err := capture.Restore(ctx, o)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "restore interrupted") {
		t.Fatalf("interrupted restore: %v", err)
	}
	assertUnchanged(t, src, before)
	o.Progress = nil
	sim.SetFaults(devicesim.Faults{})
	if _, err := capture.Restore(context.Background(), o); err != nil {
		t.Fatalf("restore after an interrupted one: %v", err)
	}
}

// A snapshot the history kept (ROOT/<UDID>.history/<time>/) restores like a backup:
// the device then holds what it held when that snapshot was the backup.
func TestRestoreSnapshot(t *testing.T) {
	sim := startSim(t, rev0(t), devicesim.Config{})
	root := t.TempDir()
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
		t.Fatal(err)
	}
	sim.SetSource(rev1(t))
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
		t.Fatal(err)
	}
	snaps, _ := filepath.Glob(filepath.Join(root, sim.UDID()+".history", "*", "Manifest.db"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots after two captures: %v", snaps)
	}
	snap := filepath.Dir(snaps[0])
	before := snapshotTree(t, snap)
	if _, err := capture.Restore(context.Background(), restoreOpts(sim, openForRestore(t, snap, ""), "")); err != nil {
		t.Fatalf("restore of the snapshot %s: %v", snap, err)
	}
	got, err := sim.Contents()
	if err != nil {
		t.Fatal(err)
	}
	gotHex := map[string]string{}
	for k, f := range got {
		gotHex[k] = hex.EncodeToString(f.SHA256[:])
	}
	assertSameContents(t, contentDigests(t, rev0(t), ""), gotHex, "device after restoring the snapshot")
	assertUnchanged(t, snap, before)
}
