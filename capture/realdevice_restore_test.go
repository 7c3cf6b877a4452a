package capture_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"iosbackup/backup"
	"iosbackup/capture"
)

// TestRealDeviceRestore backs a real device up and restores that backup onto it, then
// captures again and compares: it overwrites the device's data with its own, so it runs
// only when asked twice:
//
//	IOSBACKUP_TEST_UDID=<udid> IOSBACKUP_TEST_RESTORE=yes [IOSBACKUP_TEST_PASSWORD=...] \
//	    go test ./capture -run RealDeviceRestore -v
//
// Find My must be off. The device reboots at the end unless IOSBACKUP_TEST_NO_REBOOT=yes.
func TestRealDeviceRestore(t *testing.T) {
	udid := os.Getenv("IOSBACKUP_TEST_UDID")
	if udid == "" || os.Getenv("IOSBACKUP_TEST_RESTORE") != "yes" {
		t.Skip("set IOSBACKUP_TEST_UDID and IOSBACKUP_TEST_RESTORE=yes to restore a real device (its data is replaced by a backup of itself)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Hour)
	defer cancel()
	tgt := capture.Target{UDID: udid}
	logEvent := func(e capture.Event) {
		if e.Kind != capture.EventProgress {
			t.Logf("%s %s", e.Kind, e.Message)
		}
	}
	root := t.TempDir()
	if _, err := capture.Run(ctx, capture.Options{Target: tgt, Root: root, Full: true, Progress: logEvent}); err != nil {
		t.Fatalf("backup before the restore: %v", err)
	}
	pw := os.Getenv("IOSBACKUP_TEST_PASSWORD")
	b, err := backup.Open(filepath.Join(root, udid), backup.Options{Password: func() ([]byte, error) { return []byte(pw), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	before := snapshotTree(t, b.Dir)
	o := capture.RestoreOptions{Target: tgt, Backup: b, Progress: logEvent, NoReboot: os.Getenv("IOSBACKUP_TEST_NO_REBOOT") == "yes"}
	if pw != "" {
		o.Password = []byte(pw)
	}
	res, err := capture.Restore(ctx, o)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	t.Logf("restore: %+v (%.1f MB/s)", res, float64(res.Bytes)/1e6/res.Duration.Seconds())
	assertUnchanged(t, b.Dir, before)
}
