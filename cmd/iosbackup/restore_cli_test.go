package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"howett.net/plist"

	"iosbackup/capture"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

const restoreCLIUDID = "00008030-00C0FFEE00C0FFEE"

// restoreCLI runs the binary without a controlling terminal (its own session), so a
// confirmation can never be typed by accident: it returns the exit status and output.
func restoreCLI(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("run %v: %v", args, err)
	return -1, ""
}

// restoreFixture makes the backup to restore (ROOT/<UDID>) and the one the simulated
// device holds before, and starts the device.
func restoreFixture(t *testing.T, encrypted bool, cfg devicesim.Config) (string, *devicesim.Sim, []string) {
	t.Helper()
	work := t.TempDir()
	src := filepath.Join(work, "backups", restoreCLIUDID)
	opt := gen.Options{Seed: 31, Entries: 500, UDID: restoreCLIUDID, DeviceName: "Restored"}
	env := []string{}
	if encrypted {
		opt.Encrypted, opt.Password = true, "cli-restore-pw"
		env = append(env, "IOSBACKUP_PASSWORD=cli-restore-pw")
	}
	genBackup(t, src, opt)
	before := filepath.Join(work, "device")
	genBackup(t, before, gen.Options{Seed: 32, Entries: 300, UDID: restoreCLIUDID, DeviceName: "Before"})
	if cfg.UDID == "" {
		cfg.UDID = restoreCLIUDID
	}
	cfg.Source = before
	sock := filepath.Join(work, "mux.sock")
	sim, err := devicesim.Start(sock, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return src, sim, append(env, "USBMUXD_SOCKET_ADDRESS=unix://"+sock)
}

// checksums maps every file under dir to its contents' digest (and every folder to
// "dir"): a restore must leave the backup folder exactly as it was.
func checksums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = string(data) + "|" + fi.ModTime().String() + "|" + fi.Mode().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertSameChecksums(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := checksums(t, dir)
	if len(after) != len(before) {
		t.Errorf("%s: %d entries before the restore, %d after", dir, len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed during the restore", filepath.Join(dir, k))
		}
	}
}

// TestRestoreCLIThenCaptureDiffMounts restores a plain and an encrypted backup into
// the simulated device with the binary, captures the device again, and diff -r of the
// two mounts finds nothing; the restored backup's folder is unchanged.
func TestRestoreCLIThenCaptureDiffMounts(t *testing.T) {
	testenv.RequireFUSE(t)
	testenv.RequireTool(t, "diff")
	for _, enc := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "encrypted"}[enc]
		t.Run(name, func(t *testing.T) {
			isolate(t)
			src, sim, env := restoreFixture(t, enc, devicesim.Config{})
			before := checksums(t, src)
			code, out := restoreCLI(t, env, "restore", "--yes", "--system", "--settings", "--remove", "--progress", "plain", src)
			if code != 0 {
				t.Fatalf("restore: exit %d\n%s", code, out)
			}
			if !strings.Contains(out, "restored "+src+" onto "+restoreCLIUDID) {
				t.Errorf("restore output: %s", out)
			}
			assertSameChecksums(t, src, before)

			root := filepath.Join(t.TempDir(), "captures")
			if code, out := restoreCLI(t, env, "capture", "--progress", "none", root); code != 0 {
				t.Fatalf("capture after the restore: exit %d\n%s", code, out)
			}
			captured := filepath.Join(root, sim.UDID())
			var pwEnv []string
			if enc {
				pwEnv = []string{"IOSBACKUP_PASSWORD=cli-restore-pw"}
			}
			ma, mb := mountBG(t, pwEnv, src), mountBG(t, pwEnv, captured)
			diff, err := exec.Command("diff", "-r", "--no-dereference", filepath.Join(ma, "domains"), filepath.Join(mb, "domains")).CombinedOutput()
			if err != nil {
				t.Fatalf("diff -r of the restored backup and the capture after it: %v\n%s", err, diff)
			}
			entries, _ := os.ReadDir(filepath.Join(ma, "domains"))
			if len(entries) < 3 {
				t.Fatalf("the mount shows %d domains: diff compared next to nothing", len(entries))
			}
		})
	}
}

// TestRestoreCLIExitCodes: every failure a script acts on has its exit status and a
// message saying what to do, and leaves the backup folder as it was.
func TestRestoreCLIExitCodes(t *testing.T) {
	cases := []struct {
		name    string
		cfg     devicesim.Config
		args    []string
		prepare func(t *testing.T, src string, sim *devicesim.Sim, env []string)
		code    int
		message string
	}{
		{name: "find my", cfg: devicesim.Config{Faults: devicesim.Faults{FindMy: true}}, code: exitRestoreFindMy, message: "turn it off"},
		{name: "wrong password on the device", cfg: devicesim.Config{Faults: devicesim.Faults{RejectPassword: true}}, code: exitWrongPassword, message: "wrong backup password"},
		{name: "disconnect", cfg: devicesim.Config{Faults: devicesim.Faults{DisconnectAfter: 50000}}, code: exitRestoreDisconnected, message: "device disconnected"},
		{name: "older device", cfg: devicesim.Config{ProductVersion: "13.1"}, code: exitRestoreOlderDevice, message: "runs iOS 13.1"},
		{name: "other device", cfg: devicesim.Config{UDID: "00008030-00DDDDDDDDDDDDDD"}, code: exitRestoreOtherDevice, message: "--source " + restoreCLIUDID},
		{name: "no terminal, no --yes", args: []string{"--no-yes"}, code: exitRestoreNotConfirmed, message: "pass --yes"},
		{name: "reboot first", args: []string{"--no-reboot"}, prepare: func(t *testing.T, src string, sim *devicesim.Sim, env []string) {
			if code, out := restoreCLI(t, env, "restore", "--yes", "--no-reboot", src); code != 0 {
				t.Fatalf("first restore: exit %d\n%s", code, out)
			}
		}, code: exitRestoreRebootFirst, message: "restarted first"},
		{name: "incomplete backup", prepare: func(t *testing.T, src string, sim *devicesim.Sim, env []string) {
			p := filepath.Join(src, "Status.plist")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !manifest.StatusComplete(data) {
				t.Fatal("the generated backup is not complete to begin with")
			}
			var st map[string]any
			if _, err := plist.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			st["SnapshotState"] = "uploading"
			if data, err = plist.Marshal(st, plist.BinaryFormat); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, code: exitRestoreIncomplete, message: `SnapshotState is "uploading", not "finished"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isolate(t)
			src, sim, env := restoreFixture(t, true, c.cfg)
			if c.prepare != nil {
				c.prepare(t, src, sim, env)
			}
			before := checksums(t, src)
			args := []string{"restore", "--progress", "none"}
			if len(c.args) == 0 || c.args[0] != "--no-yes" {
				args = append(append(args, "--yes"), c.args...)
			}
			code, out := restoreCLI(t, env, append(args, src)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, out)
			}
			if !strings.Contains(out, c.message) {
				t.Errorf("output lacks %q:\n%s", c.message, out)
			}
			assertSameChecksums(t, src, before)
		})
	}
}

// The confirmation names the backup and the device, and only yes goes on.
func TestRestoreConfirmation(t *testing.T) {
	p := capture.RestorePlan{DeviceUDID: "DEV-UDID", DeviceName: "Anna's iPhone", DeviceVersion: "17.5",
		Backup: "/b/SRC", BackupUDID: "SRC-UDID", BackupName: "Old iPhone", BackupVersion: "16.1", Files: 12, Bytes: 4096}
	for answer, ok := range map[string]bool{"yes\n": true, "y\n": true, "YES\n": true, "no\n": false, "\n": false, "": false} {
		var out bytes.Buffer
		err := confirmOn(strings.NewReader(answer), &out, p)
		if (err == nil) != ok {
			t.Errorf("answer %q: %v", answer, err)
		}
		if !ok && !errors.Is(err, capture.ErrNotConfirmed) {
			t.Errorf("answer %q: %v is not ErrNotConfirmed", answer, err)
		}
		for _, s := range []string{"/b/SRC", "SRC-UDID", "Old iPhone", "16.1", "DEV-UDID", "Anna's iPhone", "17.5", "replaced"} {
			if !strings.Contains(out.String(), s) {
				t.Errorf("prompt lacks %q: %s", s, out.String())
			}
		}
	}
}

// restore --json: progress lines in capture's JSON naming with the bytes sent, then the
// result, on standard output.
func TestRestoreCLIJSON(t *testing.T) {
	isolate(t)
	src, sim, env := restoreFixture(t, false, devicesim.Config{})
	cmd := exec.Command(binary, "restore", "--yes", "--json", "--system", "--settings", "--remove", src)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("restore --json: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var last map[string]any
	sawBytes := false
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		if n, _ := m["sent_bytes"].(float64); m["kind"] == "progress" && n > 0 {
			sawBytes = true
			requireKeys(t, "progress", m, []string{"percent", "expected_bytes", "files", "rate_bytes_per_second", "eta_seconds"}, []string{"received_bytes"})
		}
		last = m
	}
	if !sawBytes {
		t.Errorf("no progress line with sent_bytes: %s", out)
	}
	requireKeys(t, "result", last, []string{"udid", "path", "files", "sent_bytes", "duration_seconds", "rebooting"}, nil)
	if last["udid"] != sim.UDID() || last["path"] != src {
		t.Errorf("result %v", last)
	}
}

// restore --only DOMAIN: that domain comes from the backup, the rest of the device
// stays; --keep-merged keeps the merged backup; an encrypted backup is refused.
func TestRestoreCLIOnly(t *testing.T) {
	isolate(t)
	src, sim, env := restoreFixture(t, false, devicesim.Config{})
	before, err := sim.Contents()
	if err != nil {
		t.Fatal(err)
	}
	reader, err := devicesim.Start(filepath.Join(t.TempDir(), "reader.sock"), devicesim.Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	wanted, err := reader.Contents() // the backup's files, as a device holding it has them
	reader.Close()
	if err != nil {
		t.Fatal(err)
	}
	const domain = "HomeDomain"
	keep := filepath.Join(t.TempDir(), "merged")
	code, out := restoreCLI(t, env, "restore", "--yes", "--system", "--settings", "--remove", "--progress", "plain",
		"--only", domain, "--keep-merged", keep, src)
	if code != 0 {
		t.Fatalf("restore --only: exit %d\n%s", code, out)
	}
	got, err := sim.Contents()
	if err != nil {
		t.Fatal(err)
	}
	inHome := func(k string) bool { return strings.HasPrefix(k, domain+"/") }
	n := 0
	for k, f := range wanted {
		if inHome(k) {
			n++
			if got[k] != f {
				t.Errorf("%s: not the backup's", k)
			}
		}
	}
	for k, f := range before {
		if !inHome(k) && got[k] != f {
			t.Errorf("%s: not the device's own any more", k)
		}
	}
	for k := range got {
		_, w := wanted[k]
		_, b := before[k]
		if inHome(k) && !w || !inHome(k) && !b {
			t.Errorf("%s: on the device from neither side", k)
		}
	}
	if n == 0 {
		t.Fatalf("the backup has no %s files: nothing was compared", domain)
	}
	if _, err := os.Stat(filepath.Join(keep, sim.UDID(), "Manifest.db")); err != nil {
		t.Errorf("--keep-merged: %v", err)
	}

	encSrc, _, encEnv := restoreFixture(t, true, devicesim.Config{})
	if code, out := restoreCLI(t, encEnv, "restore", "--yes", "--only", domain, encSrc); code != exitError || !strings.Contains(out, "plain (unencrypted)") {
		t.Errorf("encrypted --only: exit %d\n%s", code, out)
	}
}

// On a terminal (script(1) gives the command one) the restore asks for the password and
// a confirmation that names the backup and the device: "no" sends nothing, "yes"
// restores.
func TestRestoreCLIConfirmOnTerminal(t *testing.T) {
	isolate(t)
	script := testenv.RequireTool(t, "script")
	src, sim, env := restoreFixture(t, true, devicesim.Config{})
	for _, c := range []struct {
		answer string
		code   int
	}{{"no", exitRestoreNotConfirmed}, {"yes", 0}} {
		sim.ResetStats()
		cmd := exec.Command(script, "-q", "-e", "-c", binary+" restore --progress none "+src, "/dev/null")
		cmd.Env = append(os.Environ(), env...)
		// The password is typed, not taken from the fixture's environment.
		cmd.Env = slices.DeleteFunc(cmd.Env, func(s string) bool { return strings.HasPrefix(s, "IOSBACKUP_PASSWORD=") })
		cmd.Stdin = strings.NewReader("cli-restore-pw\n" + c.answer + "\n")
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Fatalf("answer %q: exit %d, want %d\n%s", c.answer, code, c.code, out)
		}
		for _, s := range []string{"Restore the backup " + src, `onto the device "Before" (` + restoreCLIUDID, "Type yes"} {
			if !strings.Contains(string(out), s) {
				t.Errorf("answer %q: the terminal did not show %q:\n%s", c.answer, s, out)
			}
		}
		if sent := sim.Stats().Sessions > 0; sent != (c.answer == "yes") {
			t.Errorf("answer %q: Restore sent to the device: %v", c.answer, sent)
		}
	}
}
