package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// make demo (scripts/demo.sh) where the mount fails (a fusermount3 that refuses, as it
// does for a user without access to /dev/fuse): the demo says so, shows extract
// instead, and exits 0; its commands print quoted, and nothing stays mounted. As root
// it runs as nobody (root would mount without fusermount3).
func TestDemoFallsBackToExtractWhenTheMountFails(t *testing.T) {
	isolate(t)
	sqlite3 := testenv.RequireTool(t, "sqlite3")
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{testenv.RequireTool(t, "setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"}
	}
	// A checkout of what the demo uses: the script, the binary, a cached sample (with a
	// fast KDF: the password step is what the demo pays once, not what it shows).
	top := t.TempDir()
	script, err := os.ReadFile("../../scripts/demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string][]byte{"scripts/demo.sh": script, "bin/iosbackup": bin} {
		if err := os.MkdirAll(filepath.Join(top, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(top, path), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The demo's tools, as make demo-tools builds them.
	for name, pkg := range map[string]string{"genbackup": "../../internal/gen/cmd/genbackup", "devicesim": "../../internal/devicesim/cmd/devicesim"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(top, "bin", name), pkg).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, out)
		}
	}
	truth := genBackup(t, filepath.Join(top, ".demo", "backup"), gen.Options{Seed: 1, Encrypted: true, Password: "demo"})
	// fusermount3 refuses, as the real one does without access to /dev/fuse.
	fake := filepath.Join(top, "fakebin")
	if err := os.MkdirAll(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	refuse := "#!/bin/sh\necho 'fusermount3: failed to open /dev/fuse: Permission denied' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "fusermount3"), []byte(refuse), 0o755); err != nil {
		t.Fatal(err)
	}
	if asUser != nil {
		for d := top; d != "/"; d = filepath.Dir(d) {
			if d == filepath.Dir(testTemp) {
				break
			}
			os.Chmod(d, 0o755)
		}
		if out, err := exec.Command("chown", "-R", "65534", top).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	args := append(asUser, "/usr/bin/env", "PATH="+fake+":"+filepath.Dir(sqlite3)+":/usr/bin:/bin", "HOME="+top,
		"IOSBACKUP_CONFIG_DIR="+filepath.Join(top, "config"), "bash", filepath.Join(top, "scripts", "demo.sh"))
	cmd := exec.Command(args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"fusermount3: failed to open /dev/fuse",
		"(the mount failed, see above",
		"$ ./bin/iosbackup extract --key-file .demo/key.hex .demo/backup .demo/extract --domain HomeDomain Library/SMS",
		"$ sqlite3 .demo/extract/HomeDomain/Library/SMS/sms.db 'SELECT handle.id, message.text FROM message JOIN handle",
		fmt.Sprintf("%s|%s", truth.Messages[0].Handle, truth.Messages[0].Text),
		// The history part: two captures from the simulated device, the first kept.
		"The previous backup is kept as snapshot",
		": sound (full verify of",
		"demo done.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "$ ls .demo/mnt") {
		t.Errorf("the demo went on with the mount after it failed:\n%s", text)
	}
	if left := ourMounts(); left != "" {
		t.Errorf("mounted after the demo:\n%s", left)
	}
}
