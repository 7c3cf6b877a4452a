package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"howett.net/plist"
)

var samples = filepath.Join("..", "..", "..", "shared", "samples")

// runCLI runs the command in-process and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	var outB, errB bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&outB, outR); done <- struct{}{} }()
	go func() { io.Copy(&errB, errR); done <- struct{}{} }()
	code := run(args)
	outW.Close()
	errW.Close()
	<-done
	<-done
	os.Stdout, os.Stderr = oldOut, oldErr
	return code, outB.String(), errB.String()
}

// isolate keeps tests away from the user's saved keys, backups and password.
func isolate(t *testing.T) {
	t.Setenv("IOSBACKUP_CONFIG_DIR", t.TempDir())
	t.Setenv("IOSBACKUP_ROOT", t.TempDir())
	os.Unsetenv("IOSBACKUP_PASSWORD")
	os.Unsetenv("IOSBACKUP_KEY")
}

func TestListSamples(t *testing.T) {
	isolate(t)
	code, out, errOut := runCLI(t, "list", "--json", samples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []summaryJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	byDir := map[string]summaryJSON{}
	for _, s := range got {
		byDir[filepath.Base(s.Path)] = s
	}
	mvt, enc := byDir["ios14-mvt"], byDir["encrypted-synthetic-pw0000"]
	if mvt.ProductVersion != "14.3" || mvt.Encrypted || mvt.Size <= 0 {
		t.Fatalf("mvt: %+v", mvt)
	}
	if !enc.Encrypted {
		t.Fatalf("encrypted sample: %+v", enc)
	}

	// The table shows the device's UDID (from Info.plist) and the folder apart.
	var info struct {
		UDID string `plist:"Unique Identifier"`
	}
	raw, err := os.ReadFile(filepath.Join(samples, "ios14-mvt", "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plist.Unmarshal(raw, &info); err != nil || len(info.UDID) != 40 {
		t.Fatalf("sample Info.plist: UDID %q, %v", info.UDID, err)
	}
	code, out, errOut = runCLI(t, "list", samples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if head := strings.Fields(lines[0]); len(head) < 2 || head[len(head)-2] != "UDID" || head[len(head)-1] != "FOLDER" {
		t.Fatalf("header %q: want UDID then FOLDER last", lines[0])
	}
	found := false
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if f[len(f)-1] == "ios14-mvt" {
			found = true
			if f[len(f)-2] != info.UDID {
				t.Errorf("ios14-mvt row %q: UDID column is not %s", l, info.UDID)
			}
		}
	}
	if !found {
		t.Errorf("no ios14-mvt row in:\n%s", out)
	}
}

func TestCatEncryptedSampleWithPasswordFileAndEnv(t *testing.T) {
	isolate(t)
	dir := filepath.Join(samples, "encrypted-synthetic-pw0000")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("0000\n"), 0o600)
	code, out, errOut := runCLI(t, "cat", "--password-file", pwFile, dir, "MyTestDomain/Media/Test.txt")
	if code != 0 || out != "Test data" {
		t.Fatalf("exit %d, out %q, err %s", code, out, errOut)
	}
	t.Setenv("IOSBACKUP_PASSWORD", "0001")
	code, _, errOut = runCLI(t, "cat", dir, "MyTestDomain/Media/Test.txt")
	if code != exitWrongPassword || !strings.Contains(errOut, "wrong password") {
		t.Fatalf("wrong password: exit %d, %s", code, errOut)
	}
}

func TestKeySaveThenUnlockWithoutPassword(t *testing.T) {
	isolate(t)
	dir := filepath.Join(samples, "encrypted-synthetic-pw0000")
	t.Setenv("IOSBACKUP_PASSWORD", "0000")
	code, keyHex, errOut := runCLI(t, "key", dir)
	if code != 0 || len(strings.TrimSpace(keyHex)) != 64 {
		t.Fatalf("key: exit %d, %q, %s", code, keyHex, errOut)
	}
	if code, _, errOut = runCLI(t, "key", "--save", dir); code != 0 {
		t.Fatalf("key --save: exit %d, %s", code, errOut)
	}
	keys, _ := filepath.Glob(filepath.Join(os.Getenv("IOSBACKUP_CONFIG_DIR"), "keys", "*.key"))
	if len(keys) != 1 {
		t.Fatalf("saved keys: %v", keys)
	}
	st, _ := os.Stat(keys[0])
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("saved key mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(keys[0])
	if strings.TrimSpace(string(data)) != strings.TrimSpace(keyHex) {
		t.Fatal("saved key differs from the printed one")
	}
	// Without any password the saved key opens it; with --no-saved-key nothing does.
	os.Unsetenv("IOSBACKUP_PASSWORD")
	code, out, errOut := runCLI(t, "cat", dir, "MyTestDomain/Media/Test.txt")
	if code != 0 || out != "Test data" {
		t.Fatalf("saved key: exit %d, %q, %s", code, out, errOut)
	}
	if code, _, _ = runCLI(t, "cat", "--no-saved-key", dir, "MyTestDomain/Media/Test.txt"); code != exitError {
		t.Fatalf("--no-saved-key without password: exit %d", code)
	}
	// The printed key works through --key-file too.
	kf := filepath.Join(t.TempDir(), "k")
	os.WriteFile(kf, []byte(keyHex), 0o600)
	if code, out, _ = runCLI(t, "cat", "--no-saved-key", "--key-file", kf, dir, "MyTestDomain/Media/Test.txt"); code != 0 || out != "Test data" {
		t.Fatalf("--key-file: exit %d %q", code, out)
	}
}

func TestUsageAndLookupErrors(t *testing.T) {
	isolate(t)
	mvt := filepath.Join(samples, "ios14-mvt")
	if code, _, _ := runCLI(t, "cat", mvt); code != exitUsage {
		t.Fatalf("missing arg: exit %d", code)
	}
	if code, _, _ := runCLI(t, "ls", "--bogus", mvt); code != exitUsage {
		t.Fatalf("bad flag: exit %d", code)
	}
	code, _, errOut := runCLI(t, "cat", mvt, "NoSuchDomain/x")
	if code != exitError || !strings.Contains(errOut, "no domain") {
		t.Fatalf("bad domain: exit %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "cat", mvt, "HomeDomain/Library/SMS/nope.db")
	if code != exitError || !strings.Contains(errOut, "no such file") {
		t.Fatalf("bad path: exit %d %s", code, errOut)
	}
	// A blob the manifest lists but the folder lacks: a clear error naming the file.
	code, _, errOut = runCLI(t, "cat", mvt, "HomeDomain/Library/Preferences/com.apple.Preferences.plist")
	if code != exitError || !strings.Contains(errOut, "missing") {
		t.Fatalf("missing blob: exit %d %s", code, errOut)
	}
	if code, _, errOut = runCLI(t, "info", "nonexistent-device"); code != exitError || !strings.Contains(errOut, "no such backup") {
		t.Fatalf("unknown device: exit %d %s", code, errOut)
	}
}

func TestLsAndInfoOnMVT(t *testing.T) {
	isolate(t)
	mvt := filepath.Join(samples, "ios14-mvt")
	code, out, errOut := runCLI(t, "ls", mvt)
	if code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 562 {
		t.Fatalf("ls lists %d domains, want 562", n)
	}
	code, out, _ = runCLI(t, "ls", "-l", mvt, "HomeDomain/Library/SMS")
	if code != 0 || !strings.Contains(out, "sms.db") {
		t.Fatalf("ls -l SMS: %d %s", code, out)
	}
	// sms.db's blob is present: its size is the blob's length, not the manifest's.
	blob, _ := os.Stat(filepath.Join(mvt, "3d", "3d0d7e5fb2ce288813306e4d4636395e047a3d28"))
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, " sms.db") && !strings.Contains(line, " "+strconv.FormatInt(blob.Size(), 10)+" ") {
			t.Fatalf("sms.db size: %q, blob is %d bytes", line, blob.Size())
		}
	}
	code, out, _ = runCLI(t, "info", mvt)
	if code != 0 || !strings.Contains(out, "total in 562 domains") || !strings.Contains(out, "3721") {
		t.Fatalf("info: %d %s", code, out)
	}
}
