package capture_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"iosbackup/capture"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
)

func TestFullThenIncremental(t *testing.T) {
	src0, src1 := rev0(t), rev1(t)
	sim := startSim(t, src0, devicesim.Config{ServiceSSL: true})
	root := t.TempDir()
	dir := filepath.Join(root, sim.UDID())

	var ev events
	res, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root, Progress: ev.add})
	if err != nil {
		t.Fatal(err)
	}
	st := sim.Stats()
	if res.Incremental || !st.Full {
		t.Errorf("first capture: incremental=%v, device full=%v; want a full backup", res.Incremental, st.Full)
	}
	if res.Files != st.FilesSent || res.Bytes != st.BytesSent {
		t.Errorf("capture counted %d files/%d bytes, device sent %d/%d", res.Files, res.Bytes, st.FilesSent, st.BytesSent)
	}
	assertSameBackup(t, src0, dir)
	assertNoLeftovers(t, root, sim.UDID())
	checkProgress(t, ev.list, res)

	// Revision 1 of the device: a few files changed, added and removed.
	sim.SetSource(src1)
	sim.ResetStats()
	res2, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	st = sim.Stats()
	if !res2.Incremental || st.Full {
		t.Errorf("second capture: incremental=%v, device full=%v; want incremental", res2.Incremental, st.Full)
	}
	assertSameBackup(t, src1, dir)
	assertNoLeftovers(t, root, sim.UDID())

	changed, removed := diffTrees(t, src0, src1)
	if len(changed) == 0 || len(removed) == 0 {
		t.Fatalf("revision 1 should change and remove files: %d changed, %d removed", len(changed), len(removed))
	}
	sent := map[string]bool{}
	for _, p := range st.Sent {
		sent[strings.TrimPrefix(p, sim.UDID()+"/Snapshot/")] = true
	}
	for _, rel := range changed {
		if !sent[rel] {
			t.Errorf("%s changed but was not sent", rel)
		}
	}
	always := map[string]bool{"Manifest.db": true, "Manifest.plist": true, "Status.plist": true}
	changedSet := map[string]bool{}
	for _, rel := range changed {
		changedSet[rel] = true
	}
	for rel := range sent {
		if !changedSet[rel] && !always[rel] {
			t.Errorf("%s did not change but was sent again", rel)
		}
	}
	if res2.Bytes != st.BytesSent || res2.Files != st.FilesSent {
		t.Errorf("capture counted %d files/%d bytes, device sent %d/%d", res2.Files, res2.Bytes, st.FilesSent, st.BytesSent)
	}
	if res2.Removed == 0 {
		t.Errorf("no removal reported, %d blobs were removed", len(removed))
	}
	t.Logf("full: %d files %d bytes; incremental: %d files %d bytes, %d removed", res.Files, res.Bytes, res2.Files, res2.Bytes, res2.Removed)
}

// checkProgress verifies the event stream a renderer draws from.
func checkProgress(t *testing.T, evs []capture.Event, res *capture.Result) {
	t.Helper()
	var last capture.Event
	var n int
	var prevBytes int64
	for _, e := range evs {
		if e.Kind != capture.EventProgress {
			continue
		}
		n++
		if e.Bytes < prevBytes {
			t.Errorf("bytes went backwards: %d after %d", e.Bytes, prevBytes)
		}
		prevBytes = e.Bytes
		last = e
	}
	if n == 0 {
		t.Fatal("no progress events")
	}
	if last.Bytes != res.Bytes || last.Files != res.Files {
		t.Errorf("last progress event: %d bytes %d files; result: %d bytes %d files", last.Bytes, last.Files, res.Bytes, res.Files)
	}
	if last.Percent < 90 {
		t.Errorf("last progress event at %.1f%%", last.Percent)
	}
}

// diffTrees lists the files of b that are new or differ from a, and the blobs of a
// that b no longer has (host-written and status files aside).
func diffTrees(t *testing.T, a, b string) (changed, removed []string) {
	t.Helper()
	inA := map[string]bool{}
	for _, rel := range treeFiles(t, a) {
		inA[rel] = true
	}
	for _, rel := range treeFiles(t, b) {
		if rel == "Info.plist" || rel == "Status.plist" {
			continue
		}
		delete(inA, rel)
		x, errA := os.ReadFile(filepath.Join(a, rel))
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			t.Fatal(err)
		}
		if errA != nil || !bytes.Equal(x, y) {
			changed = append(changed, rel)
		}
	}
	for rel := range inA {
		if rel != "Info.plist" && rel != "Status.plist" {
			removed = append(removed, rel)
		}
	}
	return changed, removed
}

func TestEncryptedSources(t *testing.T) {
	encrypted := genBackup(t, "encrypted", gen.Options{Seed: 11, Entries: 400, Encrypted: true, Password: "pw", SHA256Rounds: 1000, SHA1Rounds: 10})
	sim := startSim(t, encrypted, devicesim.Config{})
	root := t.TempDir()
	dir := filepath.Join(root, sim.UDID())
	res, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Encrypted {
		t.Error("result says unencrypted; the source's Manifest.plist says IsEncrypted")
	}
	assertSameBackup(t, encrypted, dir)

	// Nothing changed: an encrypted Manifest.db cannot be compared row by row, so the
	// device compares listings, and must send nothing but the manifests again.
	sim.ResetStats()
	res, err = capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	assertSameBackup(t, encrypted, dir)
	for _, p := range sim.Stats().Sent {
		base := filepath.Base(p)
		if base != "Manifest.db" && base != "Manifest.plist" && base != "Status.plist" {
			t.Errorf("unchanged file %s sent again", p)
		}
	}
	if !res.Incremental {
		t.Error("second capture was not incremental")
	}

	// The shared sample: its Status.plist is empty, so the device writes its own.
	sample := filepath.Join(t.TempDir(), "sample")
	copyTree(t, filepath.Join("..", "..", "shared", "samples", "encrypted-synthetic-pw0000"), sample)
	sim2 := startSim(t, sample, devicesim.Config{ServiceSSL: true, UDID: "0123456789abcdef0123456789abcdef01234567"})
	root2 := t.TempDir()
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim2), Root: root2}); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(root2, sim2.UDID())
	for _, rel := range []string{"Manifest.db", "Manifest.plist", "57/5727bd1c5fa1055e15d8b4a75a74793c84b5ffdc"} {
		x, _ := os.ReadFile(filepath.Join(sample, rel))
		y, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil || !bytes.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s: captured copy differs from the sample (%v)", rel, err)
		}
	}
	if s := readPlist(t, filepath.Join(got, "Status.plist")); s["SnapshotState"] != "finished" {
		t.Errorf("Status.plist: %v", s)
	}
}

func TestInterruptKeepsPreviousBackup(t *testing.T) {
	src0, src1 := rev0(t), rev1(t)
	var mu sync.Mutex
	var cancel context.CancelFunc
	var threshold int64
	arm := func(c context.CancelFunc, at int64) {
		mu.Lock()
		cancel, threshold = c, at
		mu.Unlock()
	}
	cfg := devicesim.Config{OnSend: func(sent int64) {
		mu.Lock()
		defer mu.Unlock()
		if cancel != nil && sent >= threshold {
			cancel()
		}
	}}
	sim := startSim(t, src0, cfg)
	root := t.TempDir()
	dir := filepath.Join(root, sim.UDID())
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
		t.Fatal(err)
	}
	total := sim.Stats().BytesSent
	before := snapshotTree(t, dir)

	// The device now holds revision 1; every run is cut at a random byte.
	sim.SetSource(src1)
	rng := rand.New(rand.NewSource(42))
	for i := range 10 {
		at := rng.Int63n(total)
		ctx, c := context.WithCancel(context.Background())
		arm(c, at)
		_, err := capture.Run(ctx, capture.Options{Target: target(sim), Root: root, Full: i%2 == 0})
		c()
		if err == nil {
			// An incremental run sends little: the cut may come after its last byte.
			if i%2 == 0 {
				t.Fatalf("run %d: full capture cut at byte %d of %d succeeded", i, at, total)
			}
			// Put revision 0 back for the next runs.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			copyTree(t, src0, dir)
			before = snapshotTree(t, dir)
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d (cut at %d): error %v, want context.Canceled", i, at, err)
		}
		if after := snapshotTree(t, dir); !sameSnapshot(before, after) {
			t.Fatalf("run %d (cut at byte %d): the previous backup changed", i, at)
		}
		assertNoLeftovers(t, root, sim.UDID())
	}
	arm(nil, 0)
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
		t.Fatalf("capture after interruptions: %v", err)
	}
	assertSameBackup(t, src1, dir)
	assertNoLeftovers(t, root, sim.UDID())
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestHostilePathsRefused(t *testing.T) {
	src := genBackup(t, "small", gen.Options{Seed: 9, Entries: 300})
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	sibling := filepath.Join(parent, "sibling")
	if err := os.MkdirAll(sibling, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sibling, "x"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	sim := startSim(t, src, devicesim.Config{})
	udid := sim.UDID()
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, udid)
	keep := snapshotTree(t, sibling)
	before := snapshotTree(t, dir)

	for _, hostile := range []string{
		"../sibling/x", "../../x", "/etc/x", "/" + sibling + "/x",
		udid + "/../sibling/x", udid + "/Snapshot/../../sibling/x", udid + "/./x", udid + "//x",
		"other-device/x", udid, udid + "/a\\..\\..\\x",
	} {
		sim.SetFaults(devicesim.Faults{HostilePaths: []string{hostile}})
		_, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root})
		if !errors.Is(err, capture.ErrUnsafePath) {
			t.Errorf("host path %q: error %v, want ErrUnsafePath", hostile, err)
		}
		if !sameSnapshot(keep, snapshotTree(t, sibling)) {
			t.Fatalf("host path %q changed the sibling folder", hostile)
		}
		if !sameSnapshot(before, snapshotTree(t, dir)) {
			t.Fatalf("host path %q changed the previous backup", hostile)
		}
		assertNoLeftovers(t, root, udid)
	}
	// A symlink planted in the staging copy while the capture runs: the device's
	// folder for a blob now points outside.
	stagedBlobDir := filepath.Join(root, ".iosbackup-capture", udid+".staging", "Snapshot", firstBlobDir(t, dir))
	sim.SetFaults(devicesim.Faults{Symlinks: map[string]string{stagedBlobDir: sibling}})
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root, Full: true}); !errors.Is(err, capture.ErrUnsafePath) {
		t.Errorf("symlink planted during the capture: error %v, want ErrUnsafePath", err)
	}
	if !sameSnapshot(keep, snapshotTree(t, sibling)) || !sameSnapshot(before, snapshotTree(t, dir)) {
		t.Fatal("a symlink planted during the capture let it write outside, or changed the previous backup")
	}
	assertNoLeftovers(t, root, udid)
	sim.SetFaults(devicesim.Faults{})

	// Symlinks planted in the backup folder: a stale Snapshot and a blob folder that
	// point outside. Neither may be followed.
	if err := os.Symlink(sibling, filepath.Join(dir, "Snapshot")); err != nil {
		t.Fatal(err)
	}
	blobDir := filepath.Join(dir, firstBlobDir(t, dir))
	if err := os.RemoveAll(blobDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sibling, blobDir); err != nil {
		t.Fatal(err)
	}
	// Working in place, the device writes into the folder itself: refused.
	restore := capture.SetForceInPlace(true)
	_, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root, Full: true})
	restore()
	if !errors.Is(err, capture.ErrUnsafePath) {
		t.Errorf("in place with planted symlinks: error %v, want ErrUnsafePath", err)
	}
	if !sameSnapshot(keep, snapshotTree(t, sibling)) {
		t.Fatal("a planted symlink let the capture write outside the backup folder")
	}
	// With a staging copy, symlinks are left out (with a warning) and the capture
	// completes.
	var ev events
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root, Progress: ev.add}); err != nil {
		t.Fatal(err)
	}
	if !sameSnapshot(keep, snapshotTree(t, sibling)) {
		t.Fatal("the capture wrote outside the backup folder")
	}
	warned := false
	for _, e := range ev.list {
		warned = warned || e.Kind == capture.EventWarning && strings.Contains(e.Message, filepath.Base(blobDir))
	}
	// The incremental backup trusted the manifest and did not resend what the symlink
	// hid; a full one restores everything.
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root, Full: true}); err != nil {
		t.Fatal(err)
	}
	if !sameSnapshot(keep, snapshotTree(t, sibling)) {
		t.Fatal("the capture wrote outside the backup folder")
	}
	assertSameBackup(t, src, dir)
	if !warned {
		t.Error("no warning about the symlink left out")
	}
}

// firstBlobDir names the first two-hex-digit blob folder of a backup.
func firstBlobDir(t *testing.T, dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == 2 {
			return e.Name()
		}
	}
	t.Fatal("no blob folder")
	return ""
}

func TestDeviceErrors(t *testing.T) {
	src := rev0(t)
	sim := startSim(t, src, devicesim.Config{})
	root := t.TempDir()
	dir := filepath.Join(root, sim.UDID())
	if _, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root}); err != nil {
		t.Fatal(err)
	}
	before := snapshotTree(t, dir)
	run := func(f devicesim.Faults, opts capture.Options) (*capture.Result, error) {
		sim.SetFaults(f)
		defer sim.SetFaults(devicesim.Faults{})
		opts.Target, opts.Root = target(sim), root
		return capture.Run(context.Background(), opts)
	}
	cases := []struct {
		name   string
		faults devicesim.Faults
		opts   capture.Options
		want   error
	}{
		{"locked", devicesim.Faults{Locked: true}, capture.Options{}, capture.ErrDeviceLocked},
		{"disconnect", devicesim.Faults{DisconnectAfter: 100_000}, capture.Options{Full: true}, capture.ErrDisconnected},
		{"device disk full", devicesim.Faults{FinalError: 105}, capture.Options{}, capture.ErrDiskFull},
		{"device failure", devicesim.Faults{FinalError: 104}, capture.Options{}, capture.ErrBackupFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(c.faults, c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if !sameSnapshot(before, snapshotTree(t, dir)) {
				t.Fatal("the previous backup changed")
			}
			assertNoLeftovers(t, root, sim.UDID())
		})
	}
	// Not enough space for what the device holds: stopped before any transfer.
	big := startSim(t, src, devicesim.Config{UsedBytes: 1 << 62, UDID: "00008030-000000000000BEEF"})
	sentBefore := big.Stats().FilesSent
	_, err := capture.Run(context.Background(), capture.Options{Target: target(big), Root: t.TempDir()})
	if !errors.Is(err, capture.ErrDiskFull) {
		t.Errorf("huge device: error %v, want ErrDiskFull", err)
	}
	if big.Stats().FilesSent != sentBefore {
		t.Error("files were transferred despite the space check")
	}
	testFindDeviceErrors(t, sim, root)
}

// testFindDeviceErrors tells apart the three ways of not finding the device: no
// usbmuxd (naming the address tried), usbmuxd without a device, a UDID that is not
// among the connected ones (listing those).
func testFindDeviceErrors(t *testing.T, sim *devicesim.Sim, root string) {
	none := filepath.Join(t.TempDir(), "none.sock")
	_, err := capture.Run(context.Background(), capture.Options{Target: capture.Target{Socket: none}, Root: root})
	if !errors.Is(err, capture.ErrNoUsbmuxd) || errors.Is(err, capture.ErrNoDevice) || !strings.Contains(err.Error(), none) {
		t.Errorf("no usbmuxd: error %v, want ErrNoUsbmuxd naming %s", err, none)
	}
	// A socket file nobody listens on: refused, still "not running".
	dead := filepath.Join(t.TempDir(), "dead.sock")
	ln, lerr := net.Listen("unix", dead)
	if lerr != nil {
		t.Fatal(lerr)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	_, err = capture.ListDevices(context.Background(), "UNIX:"+dead)
	if !errors.Is(err, capture.ErrNoUsbmuxd) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("dead usbmuxd socket: error %v, want ErrNoUsbmuxd, refused", err)
	}
	_, err = capture.Run(context.Background(), capture.Options{Target: capture.Target{Socket: sim.Socket(), UDID: "ffff"}, Root: root})
	if !errors.Is(err, capture.ErrUnknownUDID) || !strings.Contains(err.Error(), "connected: "+sim.UDID()) {
		t.Errorf("unknown UDID: error %v, want ErrUnknownUDID listing %s", err, sim.UDID())
	}
	sim.SetFaults(devicesim.Faults{Detached: true})
	defer sim.SetFaults(devicesim.Faults{})
	_, err = capture.Run(context.Background(), capture.Options{Target: capture.Target{Socket: sim.Socket()}, Root: root})
	if !errors.Is(err, capture.ErrNoDevice) || errors.Is(err, capture.ErrNoUsbmuxd) {
		t.Errorf("usbmuxd without device: error %v, want ErrNoDevice", err)
	}
	_, err = capture.Run(context.Background(), capture.Options{Target: capture.Target{Socket: sim.Socket(), UDID: sim.UDID()}, Root: root})
	if !errors.Is(err, capture.ErrUnknownUDID) || !strings.Contains(err.Error(), "no device connected") {
		t.Errorf("UDID given, no device: error %v, want ErrUnknownUDID saying no device is connected", err)
	}
}

func TestPairingAndPasswords(t *testing.T) {
	defer capture.SetPairPollInterval(20 * time.Millisecond)()
	defer capture.SetQuietAfter(200 * time.Millisecond)()
	src := rev0(t)
	sim := startSim(t, src, devicesim.Config{Faults: devicesim.Faults{Unpaired: true, TrustPrompts: 2}})
	ctx := context.Background()
	root := t.TempDir()

	devs, err := capture.ListDevices(ctx, sim.Socket())
	if err != nil || len(devs) != 1 {
		t.Fatalf("ListDevices: %v %v", devs, err)
	}
	if d := devs[0]; d.Paired || d.EncryptionKnown || d.UDID != sim.UDID() || d.Name == "" || d.ProductVersion == "" {
		t.Errorf("unpaired device listed as %+v", d)
	}
	if _, err := capture.Run(ctx, capture.Options{Target: target(sim), Root: root}); !errors.Is(err, capture.ErrNotPaired) {
		t.Fatalf("capture unpaired: %v, want ErrNotPaired", err)
	}
	var ev events
	if err := capture.Pair(ctx, target(sim), ev.add); err != nil {
		t.Fatal(err)
	}
	if w := ev.waits(); len(w) == 0 || w[0] != capture.WaitTrust {
		t.Errorf("waits while pairing: %v, want tap Trust", w)
	}
	devs, err = capture.ListDevices(ctx, sim.Socket())
	if err != nil || len(devs) != 1 || !devs[0].Paired || !devs[0].EncryptionKnown || devs[0].Encrypted {
		t.Fatalf("after pairing: %+v %v", devs, err)
	}

	// Encryption on, with a passcode confirmation the device waits for.
	sim.SetFaults(devicesim.Faults{PasscodeWait: 600 * time.Millisecond})
	ev = events{}
	pw := func(p string) capture.PasswordFunc {
		return func(capture.PasswordKind) ([]byte, error) { return []byte(p), nil }
	}
	if err := capture.SetEncryption(ctx, target(sim), true, pw("secret"), ev.add); err != nil {
		t.Fatal(err)
	}
	if on, p := sim.Encryption(); !on || p != "secret" {
		t.Fatalf("device encryption %v %q after turning it on", on, p)
	}
	if w := ev.waits(); len(w) == 0 || w[0] != capture.WaitPasscode {
		t.Errorf("waits: %v, want enter the passcode", w)
	}
	sim.SetFaults(devicesim.Faults{})
	if err := capture.SetEncryption(ctx, target(sim), true, pw("x"), nil); !errors.Is(err, capture.ErrAlreadyEncrypted) {
		t.Errorf("second 'on': %v", err)
	}
	if err := capture.SetEncryption(ctx, target(sim), false, pw("wrong"), nil); !errors.Is(err, capture.ErrWrongPassword) {
		t.Errorf("'off' with a wrong password: %v, want ErrWrongPassword", err)
	}
	kinds := []capture.PasswordKind{}
	change := func(k capture.PasswordKind) ([]byte, error) {
		kinds = append(kinds, k)
		if k == capture.PasswordCurrent {
			return []byte("secret"), nil
		}
		return []byte("better"), nil
	}
	if err := capture.ChangePassword(ctx, target(sim), change, nil); err != nil {
		t.Fatal(err)
	}
	if on, p := sim.Encryption(); !on || p != "better" || len(kinds) != 2 {
		t.Fatalf("after change: %v %q, asked %v", on, p, kinds)
	}
	if err := capture.SetEncryption(ctx, target(sim), false, pw("better"), nil); err != nil {
		t.Fatal(err)
	}
	if on, _ := sim.Encryption(); on {
		t.Fatal("encryption still on")
	}

	// A capture the device keeps waiting on (passcode entry) reports the wait.
	sim.SetFaults(devicesim.Faults{PasscodeWait: 600 * time.Millisecond})
	ev = events{}
	if _, err := capture.Run(ctx, capture.Options{Target: target(sim), Root: root, Progress: ev.add}); err != nil {
		t.Fatal(err)
	}
	if w := ev.waits(); len(w) == 0 || w[0] != capture.WaitPasscode {
		t.Errorf("waits during capture: %v", w)
	}
	assertSameBackup(t, src, filepath.Join(root, sim.UDID()))
}
