// The measurement reads the peak RSS from /proc/self/status and the CPU time from
// getrusage: it is a Linux measurement, like `make bench`.
//go:build linux

package backup

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"iosbackup/internal/gen"
)

// The million-row measurement of the issue ("1,000,000 entries ready in <= 3 s plus
// manifest decryption time; RSS <= 300 MB"). It is skipped unless IOSBACKUP_BIG=1:
// generating the backups alone takes half a minute.
//
//	IOSBACKUP_BIG=1 go test ./backup/ -run TestOpenMillionRows -v -timeout 20m
//
// IOSBACKUP_BIG_DIR names a folder where the generated backups are kept between runs
// (as plain/ and encrypted/, each with a .truth.json beside it); without it they are
// generated into a temporary folder and removed. Each backup is opened in a child
// process (this test binary re-run), so that the peak RSS it reports (VmHWM) is that
// of backup.Open alone and not of the generator.
const (
	bigRows     = 1_000_000
	bigPassword = "million rows" // the synthetic backup's password, not a secret
	bigEnvChild = "IOSBACKUP_BIG_CHILD"
)

// bigTruth is what the generator reported, kept beside a cached backup.
type bigTruth struct {
	Rows    int // manifest rows
	Entries int // rows plus the parent directories written without a row
}

// bigResult is what the child process measured.
type bigResult struct {
	Rows, Entries, Synthesized, Skipped int
	OpenSeconds                         float64
	CPUSeconds                          float64 // user + system time of the whole child process
	DecryptSeconds                      float64 // reading the whole Manifest.db through the decrypting reader
	PeakRSSKiB                          int64   // VmHWM
	NumCPU                              int
	GOGC, GOMEMLIMIT                    string
}

func TestOpenMillionRows(t *testing.T) {
	if os.Getenv("IOSBACKUP_BIG") != "1" {
		t.Skip("set IOSBACKUP_BIG=1 to generate and open 1,000,000-row backups")
	}
	if os.Getenv(bigEnvChild) != "" {
		t.Skip("child process")
	}
	for _, encrypted := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "encrypted"}[encrypted]
		t.Run(name, func(t *testing.T) {
			dir, truth := bigBackup(t, name, encrypted)
			res := runBigChild(t, dir, encrypted)
			t.Logf("%s: %d rows -> %d entries in %.2fs (%.0f rows/s, %.2fs of CPU); peak RSS %.1f MiB; "+
				"reading the whole Manifest.db through the decrypting reader: %.2fs; %d CPUs, GOGC=%q GOMEMLIMIT=%q",
				name, res.Rows, res.Entries, res.OpenSeconds, float64(res.Rows)/res.OpenSeconds, res.CPUSeconds,
				float64(res.PeakRSSKiB)/1024, res.DecryptSeconds, res.NumCPU, res.GOGC, res.GOMEMLIMIT)
			if res.Rows != truth.Rows || res.Skipped != 0 {
				t.Errorf("read %d rows (%d skipped); the generator wrote %d", res.Rows, res.Skipped, truth.Rows)
			}
			if res.Entries != truth.Entries {
				t.Errorf("index holds %d entries (%d synthesized); the generator wrote %d rows and %d row-less parents",
					res.Entries, res.Synthesized, truth.Rows, truth.Entries-truth.Rows)
			}
		})
	}
}

// bigBackup returns a generated million-row backup, generating it when needed.
func bigBackup(t *testing.T, name string, encrypted bool) (string, bigTruth) {
	t.Helper()
	root := os.Getenv("IOSBACKUP_BIG_DIR")
	if root == "" {
		root = t.TempDir()
	}
	dir := filepath.Join(root, name)
	truthPath := dir + ".truth.json"
	var truth bigTruth
	if b, err := os.ReadFile(truthPath); err == nil {
		if err := json.Unmarshal(b, &truth); err != nil {
			t.Fatalf("%s: %v", truthPath, err)
		}
		return dir, truth
	}
	if err := os.RemoveAll(dir); err != nil { // a generation cut short
		t.Fatal(err)
	}
	opt := gen.Options{Seed: 1, Entries: bigRows, OmitFillerBlobs: true}
	if encrypted {
		opt.Encrypted, opt.Password = true, bigPassword
		opt.SHA256Rounds, opt.SHA1Rounds = 1000, 10 // the KDF is not what is measured
	}
	start := time.Now()
	tr, err := gen.Generate(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	truth = bigTruth{Rows: tr.Rows, Entries: len(tr.Entries)}
	t.Logf("generated %s in %v", dir, time.Since(start).Round(time.Millisecond))
	b, _ := json.Marshal(truth)
	if err := os.WriteFile(truthPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, truth
}

func runBigChild(t *testing.T, dir string, encrypted bool) bigResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenMillionRowsChild$", "-test.v")
	cmd.Env = append(os.Environ(), bigEnvChild+"="+dir, "IOSBACKUP_BIG_ENCRYPTED="+strconv.FormatBool(encrypted))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "BIGRESULT "); ok {
			var res bigResult
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatal(err)
			}
			return res
		}
	}
	t.Fatalf("child printed no result:\n%s", out)
	return bigResult{}
}

// TestOpenMillionRowsChild is the measured process: it opens the backup named by
// IOSBACKUP_BIG_CHILD and prints what it measured.
func TestOpenMillionRowsChild(t *testing.T) {
	dir := os.Getenv(bigEnvChild)
	if dir == "" {
		t.Skip("run by TestOpenMillionRows")
	}
	opt := Options{}
	if os.Getenv("IOSBACKUP_BIG_ENCRYPTED") == "true" {
		opt.Password = password(bigPassword)
	}
	start := time.Now()
	b, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	res := bigResult{
		Rows: b.Stats.Rows, Entries: b.Index.Len(), Synthesized: b.Stats.Synthesized, Skipped: b.Stats.Skipped,
		OpenSeconds: time.Since(start).Seconds(), CPUSeconds: cpuSeconds(t), PeakRSSKiB: peakRSSKiB(t),
		NumCPU: runtime.NumCPU(), GOGC: os.Getenv("GOGC"), GOMEMLIMIT: os.Getenv("GOMEMLIMIT"),
	}
	if b.Encrypted {
		res.DecryptSeconds = timeManifestDecryption(t, b)
	}
	runtime.KeepAlive(b)
	line, _ := json.Marshal(res)
	fmt.Printf("BIGRESULT %s\n", line)
}

// timeManifestDecryption reads the whole encrypted Manifest.db through the decrypting
// reader, as SQLite does page by page, and returns how long that took.
func timeManifestDecryption(t *testing.T, b *Backup) float64 {
	t.Helper()
	class, wrapped, err := splitClassKey(b.Manifest.ManifestKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := b.keys.UnwrapFileKey(class, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(b.Dir, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := openManifestDB(f, fi.Size(), key)
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, 4096)
	for off := int64(0); off < r.Size(); off += int64(len(page)) {
		if _, err := r.ReadAt(page, off); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	}
	return time.Since(start).Seconds()
}

// peakRSSKiB reads VmHWM, the peak resident set size of this process.
func peakRSSKiB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// cpuSeconds is the user and system time this process has used.
func cpuSeconds(t *testing.T) float64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
