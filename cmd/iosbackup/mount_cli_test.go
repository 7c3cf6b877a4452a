package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

// binary is the real iosbackup, built once: mount --background re-executes itself, and
// FUSE must be served from another process than the test's (go-fuse's deadlock note).
var binary string

// testTemp is this test process's own temp folder (TMPDIR points into it, so every
// t.TempDir is inside): the leak check counts only mounts there, never a user's own.
var testTemp string

func TestMain(m *testing.M) {
	var err error
	if testTemp, err = os.MkdirTemp("", "iosbackup-cmdtest"); err != nil {
		panic(err)
	}
	os.Setenv("TMPDIR", testTemp)
	dir, err := os.MkdirTemp("", "iosbackup-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "iosbackup")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building iosbackup: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if leftover := ourMounts(); leftover != "" {
		fmt.Fprintf(os.Stderr, "mounts left behind:\n%s", leftover)
		code = 1
	} else {
		os.RemoveAll(testTemp)
	}
	os.Exit(code)
}

// ourMounts lists the iosbackup FUSE mounts inside this test process's temp folder.
func ourMounts() string {
	data, _ := os.ReadFile("/proc/mounts")
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && strings.HasPrefix(f[2], "fuse") && strings.HasPrefix(f[1], testTemp+"/") && strings.Contains(l, "iosbackup") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func cli(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func genBackup(t *testing.T, dir string, opt gen.Options) *gen.Truth {
	t.Helper()
	if opt.Encrypted {
		opt.SHA256Rounds, opt.SHA1Rounds = 1000, 10
	}
	truth, err := gen.Generate(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

func mountBG(t *testing.T, env []string, args ...string) string {
	t.Helper()
	mp := t.TempDir()
	out, err := cli(t, env, append(append([]string{"mount", "--background"}, args...), mp)...)
	if err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		out, err := cli(t, nil, "unmount", mp)
		t.Logf("unmount %s: %v %s", mp, err, out)
		if err != nil {
			t.Errorf("unmount %s: %v\n%s", mp, err, out)
		}
	})
	return mp
}

// TestMountRootDiffAndLocked mounts a folder of three backups: two revisions of one
// device (plain), and an encrypted one whose password is not given. diff -r between
// the two revisions reports exactly what the generator changed; the locked one is a
// folder holding only a note; nothing is left mounted.
func TestMountRootDiffAndLocked(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	root := t.TempDir()
	r0 := genBackup(t, filepath.Join(root, "a"), gen.Options{Seed: 11, Entries: 300, DeviceName: "Alpha"})
	r1 := genBackup(t, filepath.Join(root, "b"), gen.Options{Seed: 11, Entries: 300, Revision: 1, DeviceName: "Alpha"})
	genBackup(t, filepath.Join(root, "c"), gen.Options{Seed: 12, Entries: 150, Encrypted: true, Password: "right", DeviceName: "Locked"})

	mp := mountBG(t, []string{"IOSBACKUP_PASSWORD=wrong"}, root)
	ents, err := os.ReadDir(mp)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 3 {
		t.Fatalf("root lists %v, want three backups", names)
	}
	var alpha []string
	var locked string
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "Alpha"):
			alpha = append(alpha, filepath.Join(mp, n))
		case strings.HasPrefix(n, "Locked"):
			locked = filepath.Join(mp, n)
		}
	}
	if len(alpha) != 2 || locked == "" {
		t.Fatalf("names %v", names)
	}
	inLocked, _ := os.ReadDir(locked)
	if len(inLocked) != 1 {
		t.Fatalf("locked folder holds %d entries", len(inLocked))
	}
	note, _ := os.ReadFile(filepath.Join(locked, inLocked[0].Name()))
	if !strings.Contains(string(note), "wrong password") {
		t.Fatalf("locked note: %q", note)
	}

	// Which mounted folder is revision 0? Both have the same device name; the dates differ.
	sort.Strings(alpha)
	a, b := filepath.Join(alpha[0], "domains"), filepath.Join(alpha[1], "domains")
	if !r0.BackupDate.Before(r1.BackupDate) {
		a, b = b, a
	}
	out, _ := exec.Command("diff", "-rq", "--no-dereference", a, b).CombinedOutput()
	got := diffPaths(string(out), a, b)
	changed, added, removed := gen.Diff(r0, r1)
	want := map[string]bool{}
	for _, k := range append(append(changed, added...), removed...) {
		want[k] = true
	}
	// diff reports a new or removed folder once, not its contents; and a changed file
	// only when its bytes differ (metadata-only changes are invisible to diff).
	for k := range got {
		if !want[k] {
			t.Errorf("diff reports %s, which the generator did not change", k)
		}
	}
	for k := range want {
		if got[k] || coveredByFolder(k, got) {
			continue
		}
		te0, te1 := r0.Lookup(splitKey(k)), r1.Lookup(splitKey(k))
		if te0 != nil && te1 != nil && (te0.Kind != manifest.KindFile || sameContent(te0, te1)) {
			continue // metadata-only change
		}
		t.Errorf("generator changed %s, diff does not report it", k)
	}
	if len(got) == 0 {
		t.Fatal("diff found nothing")
	}
}

// diffPaths turns `diff -rq` output into Domain/path keys.
func diffPaths(out, a, b string) map[string]bool {
	got := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Files "):
			p := strings.TrimPrefix(l, "Files "+a+"/")
			got[p[:strings.Index(p, " and ")]] = true
		case strings.HasPrefix(l, "Only in "):
			rest := strings.TrimPrefix(l, "Only in ")
			dir, name, _ := strings.Cut(rest, ": ")
			dir = strings.TrimPrefix(strings.TrimPrefix(dir, a), b)
			got[strings.TrimPrefix(dir+"/"+name, "/")] = true
		}
	}
	return got
}

func coveredByFolder(k string, got map[string]bool) bool {
	for p := k; strings.Contains(p, "/"); {
		p = p[:strings.LastIndex(p, "/")]
		if got[p] {
			return true
		}
	}
	return false
}

func splitKey(k string) (string, string) {
	d, p, _ := strings.Cut(k, "/")
	return d, p
}

func sameContent(a, b *gen.TruthEntry) bool {
	x, _ := io.ReadAll(a.Content())
	y, _ := io.ReadAll(b.Content())
	return string(x) == string(y)
}

// TestExtractKeepsTimesModesAndStaysInside extracts an encrypted generated backup and
// compares every file with the generator's truth.
func TestExtractKeepsTimesModesAndStaysInside(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "b")
	truth := genBackup(t, dir, gen.Options{Seed: 5, Entries: 250, Encrypted: true, Password: "pw"})
	dest := t.TempDir()
	out, err := cli(t, []string{"IOSBACKUP_PASSWORD=pw"}, "extract", dir, dest)
	if err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	files := 0
	for i := range truth.Entries {
		te := &truth.Entries[i]
		p := filepath.Join(dest, te.Domain, filepath.FromSlash(te.Path))
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatalf("%s: %v", te.Key(), err)
		}
		switch te.Kind {
		case manifest.KindFile:
			want, _ := io.ReadAll(te.Content())
			got, _ := os.ReadFile(p)
			if string(got) != string(want) {
				t.Fatalf("%s: contents differ", te.Key())
			}
			if st.Mode().Perm() != os.FileMode(te.Mode&0o777) || !st.ModTime().Equal(time.Unix(te.MTime, 0)) {
				t.Fatalf("%s: mode %v mtime %v; want %o %v", te.Key(), st.Mode(), st.ModTime(), te.Mode&0o777, time.Unix(te.MTime, 0))
			}
			files++
		case manifest.KindSymlink:
			if target, _ := os.Readlink(p); target != te.Target {
				t.Fatalf("%s: link to %q, want %q", te.Key(), target, te.Target)
			}
		case manifest.KindDir:
			if !st.IsDir() {
				t.Fatalf("%s: not a folder", te.Key())
			}
			if !te.Synthetic && !st.ModTime().Equal(time.Unix(te.MTime, 0)) {
				t.Fatalf("%s: folder mtime %v, want %v", te.Key(), st.ModTime(), time.Unix(te.MTime, 0))
			}
		}
	}
	if files == 0 {
		t.Fatal("no files checked")
	}
	// A second run refuses to overwrite; --overwrite replaces.
	if out, err := cli(t, []string{"IOSBACKUP_PASSWORD=pw"}, "extract", dir, dest); err == nil || !strings.Contains(out, "already exist") {
		t.Fatalf("second extract: %v %s", err, out)
	}
	if out, err := cli(t, []string{"IOSBACKUP_PASSWORD=pw"}, "extract", "--overwrite", "-q", dir, dest); err != nil {
		t.Fatalf("--overwrite: %v %s", err, out)
	}
	// A glob selects a subtree only.
	dest2 := t.TempDir()
	if out, err := cli(t, []string{"IOSBACKUP_PASSWORD=pw"}, "extract", "--domain", "CameraRollDomain", dir, dest2, "Media/DCIM"); err != nil {
		t.Fatalf("glob extract: %v %s", err, out)
	}
	top, _ := os.ReadDir(dest2)
	if len(top) != 1 || top[0].Name() != "CameraRollDomain" {
		t.Fatalf("glob extract wrote %v", top)
	}
	photos, _ := filepath.Glob(filepath.Join(dest2, "CameraRollDomain", "Media", "DCIM", "100APPLE", "*"))
	if len(photos) == 0 {
		t.Fatal("no photos extracted")
	}
}

// TestForegroundMountUnmountsOnSignal: a foreground mount prints one ready line, and
// SIGTERM (as Ctrl-C's SIGINT) unmounts it and exits 0, leaving nothing mounted.
func TestForegroundMountUnmountsOnSignal(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	dir := filepath.Join(t.TempDir(), "b")
	genBackup(t, dir, gen.Options{Seed: 9, Entries: 200})
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		mp := t.TempDir()
		cmd := exec.Command(binary, "mount", dir, mp)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if strings.Contains(sc.Text(), "mounted") {
					ready <- sc.Text()
				}
			}
		}()
		select {
		case line := <-ready:
			if !strings.Contains(line, mp) {
				t.Fatalf("ready line %q does not name the mountpoint", line)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("no ready line")
		}
		if _, err := os.Stat(filepath.Join(mp, "domains", "HomeDomain")); err != nil {
			t.Fatalf("mount not usable: %v", err)
		}
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%v: exit %v", sig, err)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: still running", sig)
		}
		if data, _ := os.ReadFile("/proc/mounts"); strings.Contains(string(data), mp) {
			t.Fatalf("%v: %s still mounted", sig, mp)
		}
	}
}
