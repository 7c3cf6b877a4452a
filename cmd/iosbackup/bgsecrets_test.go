package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
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

// FuzzSecretsRoundTrip: whatever the environment, the child gets every variable but
// the secret ones in its environment, and exactly the secret ones through the pipe.
func FuzzSecretsRoundTrip(f *testing.F) {
	f.Add("IOSBACKUP_PASSWORD", "pw with spaces\nand a newline", "HOME", "/root")
	f.Add("IOSBACKUP_KEY", "00ff", "IOSBACKUP_PASSWORD", "")
	f.Add("IOSBACKUP_PASSWORD", "a=b=c", "IOSBACKUP_PASSWORDX", "not secret")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		valid := func(name, value string) bool {
			return name != "" && !strings.ContainsAny(name, "=\x00") && !strings.Contains(value, "\x00")
		}
		if !valid(n1, v1) || !valid(n2, v2) || n1 == n2 {
			return // not an environment
		}
		env := []string{n1 + "=" + v1, n2 + "=" + v2}
		rest, secrets := withholdSecrets(env)
		got := parseSecrets(secrets)
		for _, kv := range env {
			name, value, _ := strings.Cut(kv, "=")
			inRest := slices.Contains(rest, kv)
			if isSecretVar(name) {
				if inRest || got[name] != value {
					t.Fatalf("%q: in the environment %v, through the pipe %q", kv, inRest, got[name])
				}
			} else if !inRest || got[name] != "" {
				t.Fatalf("%q: in the environment %v, through the pipe %q", kv, inRest, got[name])
			}
		}
		if len(got)+len(rest) != len(env) {
			t.Fatalf("env %q: rest %q, secrets %q", env, rest, got)
		}
	})
}
