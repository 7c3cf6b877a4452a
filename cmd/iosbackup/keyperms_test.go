package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
)

// TestSavedKeyPermissionsFixed: a saved key left readable by others (file 0644 in a
// 0777 folder) still opens the backup, with a warning naming each, and both are set
// back to 0600 and 0700, as ssh insists on for private keys; the next run is silent.
// A --key-file readable by others draws a warning but is not changed (not ours).
func TestSavedKeyPermissionsFixed(t *testing.T) {
	isolate(t)
	truth := genBackup(t, filepath.Join(t.TempDir(), "b"), gen.Options{Seed: 46, Encrypted: true, Password: "pw"})
	t.Setenv("IOSBACKUP_PASSWORD", "pw")
	code, keyHex, errOut := runCLI(t, "key", truth.Dir)
	if code != 0 {
		t.Fatalf("key: exit %d: %s", code, errOut)
	}
	keysDir := filepath.Join(os.Getenv("IOSBACKUP_CONFIG_DIR"), "keys")
	if err := os.MkdirAll(keysDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keysDir, 0o777); err != nil {
		t.Fatal(err)
	}
	// key --save into the 0777 folder fixes the folder.
	if code, _, errOut = runCLI(t, "key", "--save", truth.Dir); code != 0 || !strings.Contains(errOut, keysDir) || !strings.Contains(errOut, "0777") {
		t.Fatalf("key --save: exit %d, want a warning naming %s (0777):\n%s", code, keysDir, errOut)
	}
	mustMode(t, keysDir, 0o700)
	keys, _ := filepath.Glob(filepath.Join(keysDir, "*.key"))
	if len(keys) != 1 {
		t.Fatalf("saved keys: %v", keys)
	}
	os.Unsetenv("IOSBACKUP_PASSWORD")

	if err := os.Chmod(keysDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keys[0], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "info", truth.Dir)
	if code != 0 {
		t.Fatalf("info with the saved key: exit %d: %s", code, errOut)
	}
	for _, want := range []string{keysDir + " was mode 0777", keys[0] + " was mode 0644"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("no warning %q in:\n%s", want, errOut)
		}
	}
	mustMode(t, keysDir, 0o700)
	mustMode(t, keys[0], 0o600)
	if code, _, errOut = runCLI(t, "info", truth.Dir); code != 0 || strings.Contains(errOut, "warning") {
		t.Fatalf("second run: exit %d, want no warning:\n%s", code, errOut)
	}

	kf := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(kf, []byte(keyHex), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(kf, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "info", "--no-saved-key", "--key-file", kf, truth.Dir)
	if code != 0 || !strings.Contains(errOut, kf) || !strings.Contains(errOut, "0644") {
		t.Fatalf("--key-file 0644: exit %d, want a warning naming %s:\n%s", code, kf, errOut)
	}
	mustMode(t, kf, 0o644)
}

func mustMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Fatalf("%s: mode %04o, want %04o", path, fi.Mode().Perm(), want)
	}
}
