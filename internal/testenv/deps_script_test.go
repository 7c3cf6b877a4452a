package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// scripts/deps.sh (make deps) run by a user who is not root, on a PATH where none of
// the listed tools is: it exits 1 and prints the one apt-get line with each package of
// the group once, in the list's order. (As root it would install them: when the test
// runs as root it runs the script as nobody, with setpriv.)
func TestDepsScriptPrintsTheInstallLine(t *testing.T) {
	script, err := filepath.Abs(filepath.Join(filepath.Dir(depsListPath()), "deps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{RequireTool(t, "setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"}
	}
	// A PATH with only what the script itself runs.
	bin := t.TempDir()
	for _, tool := range []string{"bash", "id", "dirname"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for d := bin; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // readable by nobody
	}

	list, err := os.ReadFile(depsListPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, group := range []string{"test", "demo"} {
		var want []string
		for _, line := range strings.Split(string(list), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 || strings.HasPrefix(f[0], "#") || !slices.Contains(strings.Split(f[2], ","), group) {
				continue
			}
			if !slices.Contains(want, f[1]) {
				want = append(want, f[1])
			}
		}
		args := append(slices.Clone(asUser), "/usr/bin/env", "PATH="+bin, script, group)
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 1 {
			t.Fatalf("deps.sh %s without the tools: exit %d (%v), want 1\n%s", group, code, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if wantLine := "apt-get install -y " + strings.Join(want, " "); lines[len(lines)-1] != wantLine {
			t.Errorf("deps.sh %s printed\n%s\nwant its last line %q", group, out, wantLine)
		}
	}
}
