package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// servingPID finds the process serving the mount at mp (the --background child): the
// one whose command line names mp.
func servingPID(t *testing.T, mp string) string {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var found []string
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 2 && args[0] == binary && args[1] == "mount" && args[len(args)-2] == mp {
			found = append(found, filepath.Base(d))
		}
	}
	if len(found) != 1 {
		t.Fatalf("processes serving %s: %v, want one", mp, found)
	}
	return found[0]
}

// TestBackgroundMountKeepsNoSecretInEnviron mounts an encrypted backup in the
// background with IOSBACKUP_PASSWORD, then with IOSBACKUP_KEY: each mount unlocks (the
// decrypted sms.db reads as the generator wrote it), and the serving process's
// /proc/PID/environ holds neither the password nor the key.
func TestBackgroundMountKeepsNoSecretInEnviron(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	const pw = "environ-test-password-7d1f"
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 48, Encrypted: true, Password: pw})
	want := truth.Lookup("HomeDomain", "Library/SMS/sms.db")
	if want == nil {
		t.Fatal("no sms.db in the truth")
	}
	keyHex := hex.EncodeToString(truth.DerivedKey)
	for _, c := range []struct{ env, secret string }{
		{"IOSBACKUP_PASSWORD=" + pw, pw},
		{"IOSBACKUP_KEY=" + keyHex, keyHex},
	} {
		name, _, _ := strings.Cut(c.env, "=")
		t.Run(name, func(t *testing.T) {
			mp := mountBG(t, []string{c.env}, "--no-saved-key", truth.Dir)
			data, err := os.ReadFile(filepath.Join(mp, "domains", smsPath))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(data)) != want.TrueSize || !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
				t.Fatalf("sms.db on the mount: %d bytes (%q...), want %d of SQLite", len(data), data[:min(16, len(data))], want.TrueSize)
			}
			pid := servingPID(t, mp)
			environ, err := os.ReadFile(filepath.Join("/proc", pid, "environ"))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(environ, []byte(c.secret)) {
				t.Fatalf("/proc/%s/environ holds the %s", pid, name)
			}
			if !bytes.Contains(environ, []byte("IOSBACKUP_CONFIG_DIR=")) {
				t.Fatalf("/proc/%s/environ is not the mount's environment:\n%q", pid, environ)
			}
		})
	}
}
