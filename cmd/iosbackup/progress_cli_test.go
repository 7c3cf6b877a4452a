package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
	"github.com/rivo/uniseg"

	"iosbackup/capture"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
)

// The big file gen adds with BigFileSize, as DOMAIN/PATH.
const bigFile = "MediaDomain/Media/Recordings/big.mov"

// bigHold makes the simulated device stop in the middle of the big file until
// release; a minute at most, so that a broken test fails rather than hangs.
type bigHold struct {
	once sync.Once
	ch   chan struct{}
	mu   sync.Mutex
	held bool
}

func newBigHold() *bigHold { return &bigHold{ch: make(chan struct{})} }

func (h *bigHold) hook(host string, sent, size int64) {
	sum := sha1.Sum([]byte("MediaDomain-Media/Recordings/big.mov"))
	if !strings.HasSuffix(host, "/"+hex.EncodeToString(sum[:])) || sent < size/2 {
		return
	}
	h.mu.Lock()
	if h.held {
		h.mu.Unlock()
		return
	}
	h.held = true
	h.mu.Unlock()
	select {
	case <-h.ch:
	case <-time.After(time.Minute):
	}
}

func (h *bigHold) release() { h.once.Do(func() { close(h.ch) }) }

// watched is a running iosbackup whose output the test reads as it comes.
type watched struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
	done chan struct{}
}

// startWatched starts the binary; the stream read is stderr, or stdout when
// fromStdout (the other one is kept in other).
func startWatched(t *testing.T, env []string, fromStdout bool, other *bytes.Buffer, args ...string) *watched {
	t.Helper()
	w := &watched{cmd: exec.Command(binary, args...), more: make(chan struct{}, 1), done: make(chan struct{})}
	w.cmd.Env = append(os.Environ(), env...)
	var r io.ReadCloser
	var err error
	if fromStdout {
		r, err = w.cmd.StdoutPipe()
		w.cmd.Stderr = other
	} else {
		r, err = w.cmd.StderrPipe()
		w.cmd.Stdout = other
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		b := make([]byte, 32<<10)
		for {
			n, err := r.Read(b)
			w.mu.Lock()
			w.buf.Write(b[:n])
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return w
}

// waitFor returns once pred holds for the output so far, false if the output ended
// without it.
func (w *watched) waitFor(pred func(string) bool) bool {
	for {
		if pred(w.output()) {
			return true
		}
		select {
		case <-w.more:
		case <-w.done:
			return pred(w.output())
		}
	}
}

func (w *watched) output() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// wait waits for the exit and returns the whole stream.
func (w *watched) wait() (string, error) {
	<-w.done
	err := w.cmd.Wait()
	return w.output(), err
}

// genBig generates the device's backup: a few hundred files and the 64 MiB one.
func genBig(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	genBackup(t, src, gen.Options{Seed: 23, Entries: 300, BigFileSize: 64 << 20, DeviceName: "Sim"})
	return src
}

// startBigSim starts a simulated device serving src, held by hold.
func startBigSim(t *testing.T, src string, hold *bigHold) (*devicesim.Sim, []string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "mux.sock")
	sim, err := devicesim.Start(sock, devicesim.Config{Source: src, OnSendFile: hold.hook, BatchFiles: 100000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hold.release(); sim.Close() })
	return sim, []string{"USBMUXD_SOCKET_ADDRESS=UNIX:" + sock}
}

var plainBigLine = regexp.MustCompile(`(?m)^\s*(\d+\.\d)% .*, ETA [0-9hms]+, ` + regexp.QuoteMeta(bigFile) + `$`)

// TestCaptureProgressDuringBigFile holds the simulated device in the middle of a
// 64 MiB file, sent in one batch (the device's own percent stays at 0 through it):
// --progress plain and --json both show a percent strictly between 0 and 100 and an
// ETA for it, naming it as DOMAIN/PATH.
func TestCaptureProgressDuringBigFile(t *testing.T) {
	isolate(t)
	hold := newBigHold()
	src := genBig(t)
	sim, env := startBigSim(t, src, hold)
	root := t.TempDir()

	var stdout bytes.Buffer
	w := startWatched(t, env, false, &stdout, "capture", "--progress", "plain", root)
	var pct float64
	seen := w.waitFor(func(s string) bool {
		m := plainBigLine.FindStringSubmatch(s)
		if m == nil {
			return false
		}
		pct, _ = strconv.ParseFloat(m[1], 64)
		return true
	})
	hold.release()
	out, err := w.wait()
	if err != nil {
		t.Fatalf("capture: %v\n%s", err, out)
	}
	if !seen || !(pct > 0 && pct < 100) {
		t.Fatalf("no plain progress line for %s with a percent in (0, 100) (got %.1f):\n%s", bigFile, pct, out)
	}

	// JSON, the same figures: a full capture again, held again.
	hold2 := newBigHold()
	sim.Close()
	_, env2 := startBigSim(t, src, hold2)
	var stderr bytes.Buffer
	w = startWatched(t, env2, true, &stderr, "capture", "--json", "--full", root)
	var ev map[string]any
	seen = w.waitFor(func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(l), &e) != nil || e["kind"] != "progress" || e["file"] != bigFile {
				continue
			}
			p, _ := e["percent"].(float64)
			eta, _ := e["eta_seconds"].(float64)
			if p > 0 && p < 100 && eta > 0 {
				ev = e
				return true
			}
		}
		return false
	})
	hold2.release()
	out, err = w.wait()
	if err != nil {
		t.Fatalf("capture --json: %v\n%s\n%s", err, out, stderr.String())
	}
	if !seen {
		t.Fatalf("no JSON progress event for %s with a percent in (0, 100) and an ETA:\n%s", bigFile, out)
	}
	if exp, _ := ev["expected_bytes"].(float64); exp < 64<<20 {
		t.Errorf("expected total %v, below the big file alone", ev["expected_bytes"])
	}
}

// TestCaptureAndListUseOneByteUnit: the library's closing line, the command's
// summary and list all print byte counts in the same IEC units (go-humanize's
// IBytes), where once "2.2 GB received" was followed by "2.0 GiB received".
func TestCaptureAndListUseOneByteUnit(t *testing.T) {
	isolate(t)
	hold := newBigHold()
	hold.release()
	src := genBig(t)
	sim, env := startBigSim(t, src, hold)
	root := t.TempDir()
	out, err := cli(t, env, "capture", "--progress", "plain", root)
	if err != nil {
		t.Fatalf("capture: %v\n%s", err, out)
	}
	lib := regexp.MustCompile(`Backup finished: (\d+) files, (.+) received in`).FindStringSubmatch(out)
	cmd := regexp.MustCompile(`done in .*: (\d+) files, (.+) received, \d+ removed`).FindStringSubmatch(out)
	if lib == nil || cmd == nil {
		t.Fatalf("no summary lines:\n%s", out)
	}
	if lib[2] != cmd[2] {
		t.Fatalf("the same bytes printed two ways: %q and %q", lib[2], cmd[2])
	}
	iec := regexp.MustCompile(`^\d+(\.\d)? (B|KiB|MiB|GiB|TiB)$`)
	if !iec.MatchString(cmd[2]) || !strings.HasSuffix(cmd[2], "MiB") {
		t.Fatalf("received %q: want IEC units, MiB for a 64 MiB file", cmd[2])
	}

	var size int64
	_ = filepath.WalkDir(filepath.Join(root, sim.UDID()), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	list, err := cli(t, nil, "list", root)
	if err != nil {
		t.Fatalf("list: %v\n%s", err, list)
	}
	if want := humanize.IBytes(uint64(size)); !strings.Contains(list, " "+want+" ") {
		t.Fatalf("list does not show the size as %q:\n%s", want, list)
	}
}

// TestCaptureCtrlC interrupts a capture with SIGINT while the bar is drawn: the bar
// is cleared before the message, no empty-reason "could not send" warning appears,
// and the message says the previous backup is intact, which it is.
func TestCaptureCtrlC(t *testing.T) {
	isolate(t)
	hold := newBigHold()
	hold.release()
	src := genBig(t)
	sim, env := startBigSim(t, src, hold)
	root := t.TempDir()
	if out, err := cli(t, env, "capture", "--progress", "none", root); err != nil {
		t.Fatalf("first capture: %v\n%s", err, out)
	}
	dir := filepath.Join(root, sim.UDID())
	before := treeDigest(t, dir)

	hold2 := newBigHold()
	sim.Close()
	_, env = startBigSim(t, src, hold2)
	// The new simulator has the same UDID and backs up into the same folder.
	var stdout bytes.Buffer
	w := startWatched(t, env, false, &stdout, "capture", "--progress", "bar", "--full", root)
	if !w.waitFor(func(s string) bool { return strings.Contains(s, "big.mov") }) {
		out, _ := w.wait()
		t.Fatalf("no bar naming big.mov:\n%q", out)
	}
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	out, err := w.wait()
	hold2.release()
	if err == nil {
		t.Fatalf("interrupted capture exited 0:\n%q", out)
	}
	msg := "capture interrupted: the previous backup in " + dir + " is intact"
	i := strings.Index(out, msg)
	if i < 0 {
		t.Fatalf("no %q in:\n%q", msg, out)
	}
	if strings.Contains(out, "could not send") {
		t.Fatalf("a spurious could-not-send warning:\n%q", out)
	}
	// The last bar drawn before the message is erased (ESC[2K) first.
	lastBar := strings.LastIndex(out[:i], "big.mov")
	if !strings.Contains(out[lastBar:i], "\x1b[2K") {
		t.Fatalf("the bar was not cleared before the message:\n%q", out[lastBar:])
	}
	t.Logf("stderr tail: %q", out[max(0, lastBar-300):])
	if after := treeDigest(t, dir); after != before {
		t.Fatal("the previous backup changed")
	}
}

// treeDigest hashes the names, sizes and contents of every file under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha1.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		io.WriteString(h, rel+"\x00")
		h.Write(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBarTextFitsWidth: the text beside the bar never exceeds its columns, counted as
// a terminal shows them (wide CJK characters take two), is never cut inside a UTF-8
// sequence, and keeps the end of the file's path.
func TestBarTextFitsWidth(t *testing.T) {
	e := capture.Event{Percent: 42, Bytes: 3 << 30, Expected: 7 << 30, Rate: 30 << 20, ETA: 95 * time.Second,
		File: "AppDomain-com.example.notes/Documents/日本語のファイル名-é́-写真アルバム.heic"}
	for width := 10; width <= 120; width++ {
		s := barText(e, width)
		if !utf8.ValidString(s) {
			t.Fatalf("width %d: invalid UTF-8 %q", width, s)
		}
		if w := uniseg.StringWidth(s); w > width {
			t.Fatalf("width %d: %q is %d columns", width, s, w)
		}
		if width >= 60 && !strings.HasSuffix(s, ".heic") {
			t.Fatalf("width %d: the file's name is lost: %q", width, s)
		}
	}
	if s := barText(e, 200); !strings.Contains(s, e.File) || !strings.Contains(s, "ETA 1m35s") {
		t.Fatalf("wide terminal: %q", s)
	}
}
