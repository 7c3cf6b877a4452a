package capture_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"iosbackup/capture"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// throughputSource is a backup with many small files and one large one.
func throughputSource(t testing.TB) string {
	return genBackup(t, "throughput", gen.Options{Seed: 5, Entries: 3000, BigFileSize: 48 << 20})
}

// TestIdevicebackup2 runs libimobiledevice's idevicebackup2 against the simulator (so
// the simulator is a device a third-party host accepts), checks that its backup equals
// ours, and prints the throughput of both.
func TestIdevicebackup2(t *testing.T) {
	bin := testenv.RequireTool(t, "idevicebackup2")
	src := throughputSource(t)
	sim := startSim(t, src, devicesim.Config{ServiceSSL: true})
	udid := sim.UDID()

	ours := t.TempDir()
	start := time.Now()
	res, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: ours, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	oursTime := time.Since(start)
	assertSameBackup(t, src, filepath.Join(ours, udid))

	theirs := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sim.ResetStats()
	cmd := exec.CommandContext(ctx, bin, "backup", "--full", theirs)
	// libusbmuxd spells a unix socket "UNIX:path" (go-ios wants unix://path).
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS=UNIX:"+sim.Socket())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start = time.Now()
	err = cmd.Run()
	theirTime := time.Since(start)
	text := out.String()
	if err != nil || !strings.Contains(text, "Backup Successful.") {
		tail := text
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		t.Fatalf("idevicebackup2: %v\n%s", err, tail)
	}
	st := sim.Stats()
	theirDir := filepath.Join(theirs, udid)
	assertSameBackup(t, src, theirDir)
	// And file for file the same as ours (Info.plist is each host's own).
	assertSameBackup(t, filepath.Join(ours, udid), theirDir)

	rate := func(bytes int64, files int, d time.Duration) string {
		return fmt.Sprintf("%.1f MB/s, %.0f files/s (%d files, %.1f MB in %v)",
			float64(bytes)/1e6/d.Seconds(), float64(files)/d.Seconds(), files, float64(bytes)/1e6, d.Round(time.Millisecond))
	}
	t.Logf("throughput over a unix socket with TLS, whole run incl. session setup:")
	t.Logf("  iosbackup capture: %s", rate(res.Bytes, res.Files, oursTime))
	t.Logf("  idevicebackup2:    %s", rate(st.BytesSent, st.FilesSent, theirTime))
}

// BenchmarkCapture measures full captures from the simulator (MB/s via SetBytes).
func BenchmarkCapture(b *testing.B) {
	src := throughputSource(b)
	sim := startSim(b, src, devicesim.Config{ServiceSSL: true})
	var files int
	var bytes int64
	b.ResetTimer()
	for range b.N {
		root, err := os.MkdirTemp("", "bench-")
		if err != nil {
			b.Fatal(err)
		}
		res, err := capture.Run(context.Background(), capture.Options{Target: target(sim), Root: root, Full: true})
		if err != nil {
			b.Fatal(err)
		}
		files, bytes = res.Files, res.Bytes
		b.StopTimer()
		os.RemoveAll(root)
		b.StartTimer()
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
