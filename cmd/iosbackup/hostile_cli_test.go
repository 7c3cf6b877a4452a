package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// The hostile-input suite of the command line: a backup folder whose blob is a
// symlink to a file outside it, or a named pipe. cat, extract, info, list and the mount
// refuse it, naming it, and nothing ever blocks.

const smsPath = "HomeDomain/Library/SMS/sms.db"

// smsBlob is where the generated backup keeps the blob of sms.db (Manifest.db layout).
func smsBlob(truth *gen.Truth) string {
	return filepath.Join(truth.Dir, "3d", "3d0d7e5fb2ce288813306e4d4636395e047a3d28")
}

// cliNoHang is cli with a deadline: a command still running after two minutes is
// killed and the test fails, so a blocked open(2) is a failure, not a hung test run.
// (Not a measure of speed: each of these commands takes well under a second.)
func cliNoHang(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("iosbackup %s: still running after two minutes (killed)\n%s", strings.Join(args, " "), out)
	}
	return string(out), err
}

// toolNoHang runs a system tool on the mount with the same deadline.
func toolNoHang(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after two minutes (killed)", name, strings.Join(args, " "))
	}
	return string(out), err
}

// noFileHolds fails if any file below dir contains secret.
func noFileHolds(t *testing.T, dir, secret string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds the outside file's contents", p)
			}
		}
		return nil
	})
}

// readEIO reads a file of the mount and checks that it fails with EIO.
func readEIO(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("read %s: %d bytes (%q), err %v; want EIO", path, len(data), data[:min(len(data), 20)], err)
	}
}

// logLinesNaming counts the lines of the mount's --log file that name the entry.
// expectOneLogLineEach: the refused sms.db blob is logged once for its reads (however
// many) and once by the messages/ view, which shows no conversations without it.
func expectOneLogLineEach(t *testing.T, logFile string) {
	t.Helper()
	for _, what := range []string{"cannot read HomeDomain/Library/SMS/sms.db", "no messages/ view"} {
		if n := logLinesNaming(t, logFile, what); n != 1 {
			data, _ := os.ReadFile(logFile)
			t.Fatalf("%d log lines say %q, want 1:\n%s", n, what, data)
		}
	}
}

func logLinesNaming(t *testing.T, logFile, entry string) int {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, entry) {
			n++
		}
	}
	return n
}

// TestHostileSymlinkedBlob is the reproduction: the blob of sms.db replaced by
// a symlink to a file outside the backup (standing in for /etc/shadow). cat fails
// naming the blob and prints nothing of it; extract exits 1 and writes nothing of it;
// the mount answers EIO and logs one line; the outside contents appear nowhere.
func TestHostileSymlinkedBlob(t *testing.T) {
	isolate(t)
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 41})
	secret := "root:SECRET-outside-the-backup:19000:0:99999:7:::"
	outside := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(outside, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	blob := smsBlob(truth)
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, blob); err != nil {
		t.Fatal(err)
	}

	out, err := cliNoHang(t, nil, "cat", truth.Dir, smsPath)
	if err == nil || strings.Contains(out, secret) || !strings.Contains(out, blob) || !strings.Contains(out, "not a regular file") {
		t.Fatalf("cat: err %v, want a failure naming %s as not a regular file:\n%s", err, blob, out)
	}

	dest := t.TempDir()
	out, err = cliNoHang(t, nil, "extract", truth.Dir, dest)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, blob) {
		t.Fatalf("extract: err %v, want exit 1 naming %s:\n%s", err, blob, out)
	}
	noFileHolds(t, dest, secret)
	if _, err := os.Lstat(filepath.Join(dest, smsPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("extract left %s behind (%v)", smsPath, err)
	}
	// Every other file was extracted.
	if _, err := os.Stat(filepath.Join(dest, "HomeDomain", "Library", "Preferences")); err != nil {
		t.Errorf("extract stopped early: %v", err)
	}

	testenv.RequireFUSE(t)
	logFile := filepath.Join(t.TempDir(), "mount.log")
	mp := mountBG(t, nil, "--log", logFile, truth.Dir)
	for _, p := range []string{"domains/" + smsPath, "device/var/mobile/Library/SMS/sms.db"} {
		readEIO(t, filepath.Join(mp, p))
		readEIO(t, filepath.Join(mp, p)) // again: still EIO, not logged twice
	}
	if out, err := toolNoHang(t, "cat", filepath.Join(mp, "domains", smsPath)); err == nil || strings.Contains(out, secret) {
		t.Fatalf("cat on the mount: err %v:\n%s", err, out)
	}
	if out, err := toolNoHang(t, "grep", "-rl", "SECRET-outside", mp); err == nil {
		t.Fatalf("grep -r found the outside contents in the mount:\n%s", out)
	}
	expectOneLogLineEach(t, logFile)
}

// TestHostileSymlinkedManifest: info and list on a backup whose Manifest.db or
// Info.plist is a symlink to another backup's (outside this one): info fails naming
// Manifest.db; list does not show the outside device's name.
func TestHostileSymlinkedManifest(t *testing.T) {
	isolate(t)
	root := t.TempDir()
	other := genBackup(t, filepath.Join(t.TempDir(), "other"), gen.Options{Seed: 43, DeviceName: "Outside Phone"})
	truth := genBackup(t, filepath.Join(root, "b"), gen.Options{Seed: 42, DeviceName: "Inside Phone"})
	for _, name := range []string{"Manifest.db", "Info.plist"} {
		p := filepath.Join(truth.Dir, name)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(other.Dir, name), p); err != nil {
			t.Fatal(err)
		}
	}
	manifestDB := filepath.Join(truth.Dir, "Manifest.db")
	out, err := cliNoHang(t, nil, "info", truth.Dir)
	if err == nil || !strings.Contains(out, manifestDB) || !strings.Contains(out, "not a regular file") || strings.Contains(out, "Outside") {
		t.Fatalf("info: err %v, want a failure naming %s:\n%s", err, manifestDB, out)
	}
	out, err = cliNoHang(t, nil, "list", root)
	if err != nil || strings.Contains(out, "Outside") {
		t.Fatalf("list: err %v, and it must not show the outside name:\n%s", err, out)
	}
}

// TestHostileFIFOBlob puts a named pipe where the blob of sms.db is, in an encrypted
// backup (whose mount opens each blob to learn its size): cat and extract finish with an
// error naming it; on the mount, a plain find and ls -lR finish, the file reads EIO.
func TestHostileFIFOBlob(t *testing.T) {
	isolate(t)
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 44, Encrypted: true, Password: "pw"})
	blob := smsBlob(truth)
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(blob, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"IOSBACKUP_PASSWORD=pw"}

	out, err := cliNoHang(t, env, "cat", truth.Dir, smsPath)
	if err == nil || !strings.Contains(out, blob) || !strings.Contains(out, "named pipe") {
		t.Fatalf("cat: err %v, want a failure naming %s as a named pipe:\n%s", err, blob, out)
	}
	dest := t.TempDir()
	out, err = cliNoHang(t, env, "extract", truth.Dir, dest)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, blob) {
		t.Fatalf("extract: err %v, want exit 1 naming %s:\n%s", err, blob, out)
	}
	if out, err := cliNoHang(t, env, "ls", "-l", truth.Dir, "HomeDomain/Library/SMS"); err != nil {
		t.Fatalf("ls -l: %v\n%s", err, out)
	}

	testenv.RequireFUSE(t)
	logFile := filepath.Join(t.TempDir(), "mount.log")
	mp := mountBG(t, env, "--log", logFile, truth.Dir)
	if out, err := toolNoHang(t, "find", mp); err != nil || !strings.Contains(out, "sms.db") {
		t.Fatalf("find: %v\n%s", err, out)
	}
	if out, err := toolNoHang(t, "ls", "-lR", mp); err != nil || !strings.Contains(out, "sms.db") {
		t.Fatalf("ls -lR: %v\n%s", err, out)
	}
	readEIO(t, filepath.Join(mp, "domains", smsPath))
	expectOneLogLineEach(t, logFile)
}
