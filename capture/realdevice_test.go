package capture_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"iosbackup/capture"
)

// TestRealDevice takes a backup from a real, paired iPhone or iPad:
//
//	IOSBACKUP_TEST_UDID=<udid> [IOSBACKUP_TEST_ROOT=<folder>] go test ./capture -run RealDevice -v
//
// It uses the system usbmuxd (or USBMUXD_SOCKET_ADDRESS). Without IOSBACKUP_TEST_ROOT
// the backup goes to a temporary folder that is deleted afterwards.
func TestRealDevice(t *testing.T) {
	udid := os.Getenv("IOSBACKUP_TEST_UDID")
	if udid == "" {
		t.Skip("set IOSBACKUP_TEST_UDID to back up a real device")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
	defer cancel()
	devs, err := capture.ListDevices(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range devs {
		t.Logf("device: %+v", d)
		found = found || d.UDID == udid
	}
	if !found {
		t.Fatalf("device %s not listed", udid)
	}
	root := os.Getenv("IOSBACKUP_TEST_ROOT")
	if root == "" {
		root = t.TempDir()
	}
	last := time.Now()
	res, err := capture.Run(ctx, capture.Options{Target: capture.Target{UDID: udid}, Root: root, Progress: func(e capture.Event) {
		if e.Kind != capture.EventProgress || time.Since(last) > 5*time.Second {
			last = time.Now()
			t.Logf("%s %s %.1f%% %d files %d bytes %.1f MB/s eta %v %s", e.Kind, e.Message, e.Percent, e.Files, e.Bytes, e.Rate/1e6, e.ETA, e.File)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("result: %+v (%.1f MB/s)", res, float64(res.Bytes)/1e6/res.Duration.Seconds())
	dir := filepath.Join(root, udid)
	for _, f := range []string{"Info.plist", "Status.plist", "Manifest.plist"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if s := readPlist(t, filepath.Join(dir, "Status.plist")); s["SnapshotState"] != "finished" {
		t.Errorf("Status.plist: %v", s)
	}
	assertNoLeftovers(t, root, udid)
}
