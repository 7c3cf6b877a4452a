package capture_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"howett.net/plist"

	"iosbackup/capture"
	"iosbackup/history"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
)

// Generated backups are shared by the tests of this package: generating costs seconds.
var (
	fixtureDir string
	fixtureMu  sync.Mutex
	fixtures   = map[string]string{}
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "capture-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// Sources used across tests: revision 0 and 1 of the same synthetic device.
func rev0(t testing.TB) string {
	return genBackup(t, "rev0", gen.Options{Seed: 7, Entries: 3000})
}

func rev1(t testing.TB) string {
	return genBackup(t, "rev1", gen.Options{Seed: 7, Entries: 3000, Revision: 1})
}

// genBackup generates a backup once per test binary and returns its folder.
func genBackup(t testing.TB, name string, opt gen.Options) string {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if d, ok := fixtures[name]; ok {
		return d
	}
	d := filepath.Join(fixtureDir, name)
	if _, err := gen.Generate(d, opt); err != nil {
		t.Fatalf("generate %s: %v", name, err)
	}
	fixtures[name] = d
	return d
}

// copyTree copies a folder (the shared samples are read-only).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startSim runs a simulated device serving src.
func startSim(t testing.TB, src string, cfg devicesim.Config) *devicesim.Sim {
	t.Helper()
	dir, err := os.MkdirTemp("", "sim-")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Source = src
	if os.Getenv("DEVICESIM_LOG") != "" {
		cfg.Log = os.Stderr
	}
	sim, err := devicesim.Start(filepath.Join(dir, "mux.sock"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sim.Close()
		os.RemoveAll(dir)
	})
	return sim
}

func target(sim *devicesim.Sim) capture.Target {
	return capture.Target{Socket: sim.Socket(), UDID: sim.UDID()}
}

// hostWritten are the files the host, not the device, writes: they cannot equal the
// source's bytes.
var hostWritten = map[string]bool{"Info.plist": true}

// treeFiles lists the regular files under dir (relative, slash-separated) and fails
// on anything else: a capture must not leave symlinks or special files.
func treeFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file (%v)", p, d.Type())
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == history.RecordName {
			return nil // a snapshot's record of its files, not part of the backup
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// assertSameBackup checks that the capture in dst holds exactly the files of src,
// byte for byte, apart from the host-written Info.plist, whose device fields must
// match the source's.
func assertSameBackup(t testing.TB, src, dst string) {
	t.Helper()
	a, b := treeFiles(t, src), treeFiles(t, dst)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("file sets differ: source %d files, capture %d files; first difference: %s", len(a), len(b), firstDiff(a, b))
	}
	for _, rel := range a {
		if hostWritten[rel] {
			continue
		}
		x, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs: source %d bytes, capture %d bytes", rel, len(x), len(y))
		}
	}
	if _, err := os.Stat(filepath.Join(src, "Info.plist")); err == nil {
		si, di := readPlist(t, filepath.Join(src, "Info.plist")), readPlist(t, filepath.Join(dst, "Info.plist"))
		for _, k := range []string{"Device Name", "Product Type", "Product Version", "Build Version", "Serial Number"} {
			if si[k] != nil && si[k] != di[k] {
				t.Errorf("Info.plist %s: source %v, capture %v", k, si[k], di[k])
			}
		}
		if di["Target Identifier"] == nil || di["Last Backup Date"] == nil {
			t.Errorf("Info.plist lacks Target Identifier or Last Backup Date: %v", di)
		}
	}
}

func firstDiff(a, b []string) string {
	set := map[string]int{}
	for _, x := range a {
		set[x] |= 1
	}
	for _, x := range b {
		set[x] |= 2
	}
	keys := make([]string, 0, len(set))
	for k, v := range set {
		if v != 3 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "(none)"
	}
	side := map[int]string{1: "only in source", 2: "only in capture"}
	return fmt.Sprintf("%s (%s), %d in all", keys[0], side[set[keys[0]]], len(keys))
}

func readPlist(t testing.TB, p string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if _, err := plist.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return m
}

// snapshotTree records every file under dir with its contents, to prove later that
// nothing changed there.
func snapshotTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "link:" + l
		case d.IsDir():
			out[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertNoLeftovers checks that no staging, temporary or Snapshot folder remains.
func assertNoLeftovers(t testing.TB, root, udid string) {
	t.Helper()
	for _, p := range []string{filepath.Join(root, ".iosbackup-capture"), filepath.Join(root, udid, "Snapshot")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}

// events collects the events of a capture.
type events struct {
	mu   sync.Mutex
	list []capture.Event
}

func (e *events) add(ev capture.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) waits() []capture.WaitReason {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []capture.WaitReason
	for _, ev := range e.list {
		if ev.Kind == capture.EventWait {
			out = append(out, ev.Wait)
		}
	}
	return out
}
