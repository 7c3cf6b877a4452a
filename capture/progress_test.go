package capture_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"iosbackup/capture"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
)

// The big file gen adds with BigFileSize, and its blob name.
const bigFile = "MediaDomain/Media/Recordings/big.mov"

func bigFileID() string {
	sum := sha1.Sum([]byte("MediaDomain-Media/Recordings/big.mov"))
	return hex.EncodeToString(sum[:])
}

// holdInBigFile makes the device stop in the middle of the big file until release is
// called (or a minute passes, so a broken test fails instead of hanging).
func holdInBigFile() (hook func(string, int64, int64), release func()) {
	ch := make(chan struct{})
	var once sync.Once
	held := false
	hook = func(host string, sent, size int64) {
		if !held && strings.HasSuffix(host, "/"+bigFileID()) && sent >= size/2 {
			held = true
			select {
			case <-ch:
			case <-time.After(time.Minute):
			}
		}
	}
	return hook, func() { once.Do(func() { close(ch) }) }
}

// TestProgressDuringBigFile: while one 64 MiB file is in flight, the progress names
// it as DOMAIN/PATH and its percent lies strictly between 0 and 100, with an ETA; the
// device's own percent, which only changes between batches, stays at 0 meanwhile.
func TestProgressDuringBigFile(t *testing.T) {
	defer capture.SetHeartbeat(20 * time.Millisecond)()
	src := genBackup(t, "big", gen.Options{Seed: 11, Entries: 300, BigFileSize: 64 << 20})
	hook, release := holdInBigFile()
	defer release()
	sim := startSim(t, src, devicesim.Config{OnSendFile: hook, BatchFiles: 100000})

	var mu sync.Mutex
	var during []capture.Event
	progress := func(e capture.Event) {
		if e.Kind != capture.EventProgress || e.File != bigFile {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		during = append(during, e)
		if e.Bytes > 0 && len(during) >= 3 {
			release()
		}
	}
	res, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: t.TempDir(), Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(during) < 3 {
		t.Fatalf("%d progress events name %s, want at least 3", len(during), bigFile)
	}
	var sawETA bool
	for _, e := range during {
		if !(e.Percent > 0 && e.Percent < 100) {
			t.Fatalf("during the big file: percent %.2f, want strictly between 0 and 100 (%+v)", e.Percent, e)
		}
		if e.Expected != res.Bytes {
			t.Errorf("expected total %d, the device sent %d", e.Expected, res.Bytes)
		}
		sawETA = sawETA || e.ETA > 0
	}
	if !sawETA {
		t.Error("no ETA while the big file was in flight")
	}
}
