package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// TestKDFNoticeOnTerminalOnly opens an encrypted backup with its password twice: under
// script(1), which gives the command a pseudo-terminal, stderr says the key is being
// derived, with the keybag's own round count; through a pipe it says nothing of it.
func TestKDFNoticeOnTerminalOnly(t *testing.T) {
	isolate(t)
	script := testenv.RequireTool(t, "script")
	dir := filepath.Join(t.TempDir(), "enc")
	if _, err := gen.Generate(dir, gen.Options{Seed: 3, Encrypted: true, Password: "pw", SHA256Rounds: 1234, SHA1Rounds: 10}); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const notice = "deriving the key (1,234 rounds)..."

	cmd := exec.Command(script, "-q", "-e", "-c", binary+" info --password-file "+pwFile+" "+dir, "/dev/null")
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("info under script: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), notice) {
		t.Fatalf("on a terminal, no %q:\n%s", notice, out)
	}

	piped, err := cli(t, nil, "info", "--password-file", pwFile, dir)
	if err != nil {
		t.Fatalf("info: %v\n%s", err, piped)
	}
	if strings.Contains(piped, "deriving the key") {
		t.Fatalf("not a terminal, yet the notice was printed:\n%s", piped)
	}
	if !strings.Contains(piped, "Encrypted") {
		t.Fatalf("info printed no backup details:\n%s", piped)
	}
}
