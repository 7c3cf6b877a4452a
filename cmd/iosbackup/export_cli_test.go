package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
)

// export messages|contacts|calls|photos through the command line, on an encrypted
// generated iOS 17 backup: the files land in DEST, a summary on stderr, nothing on
// stdout; bad dates and formats are usage errors (exit 2).
func TestExportCommands(t *testing.T) {
	isolate(t)
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "backup"), gen.Options{Seed: 3, ProductVersion: "17.5",
		Encrypted: true, Password: "pw", SHA256Rounds: 1000, SHA1Rounds: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("IOSBACKUP_PASSWORD", "pw")
	dest := filepath.Join(t.TempDir(), "out")
	for what, file := range map[string]string{
		"messages": "messages/Family 👪/messages.html",
		"contacts": "contacts/all.vcf",
		"calls":    "calls/calls.csv",
		"photos":   "photos/albums/Family",
	} {
		code, out, errOut := runCLI(t, "export", what, truth.Dir, dest)
		if code != 0 || out != "" || !strings.Contains(errOut, "exported ") {
			t.Errorf("export %s: exit %d, stdout %q, stderr %q", what, code, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(dest, filepath.FromSlash(file))); err != nil {
			t.Errorf("export %s: %v", what, err)
		}
	}
	// Again into the same DEST: refused, nothing replaced.
	if code, _, errOut := runCLI(t, "export", "calls", truth.Dir, dest); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("second export: exit %d, %q", code, errOut)
	}
	for _, args := range [][]string{
		{"export", "messages", truth.Dir, t.TempDir(), "--since", "yesterday"},
		{"export", "messages", truth.Dir, t.TempDir(), "--format", "pdf"},
		{"export", "messages", truth.Dir},
	} {
		if code, _, errOut := runCLI(t, args...); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d", args, code)
		}
	}
	code, _, _ := runCLI(t, "export", "messages", truth.Dir, t.TempDir(), "--since", "2001-01-01", "--until", "not-a-date")
	if code != 2 {
		t.Errorf("bad --until: exit %d, want 2", code)
	}
}
