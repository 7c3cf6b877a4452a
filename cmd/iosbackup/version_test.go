package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// The version line says what the build info says: module version, commit, its time,
// uncommitted changes, Go version.
func TestFormatVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "iosbackup", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	for _, c := range []struct {
		override, want string
		modified       string
	}{
		{"", "v1.2.3 commit 0123456789abcdef0123456789abcdef01234567 (2026-11-30T10:00:00Z, modified), go1.26.8 linux/arm64", "true"},
		{"", "v1.2.3 commit 0123456789abcdef0123456789abcdef01234567 (2026-11-30T10:00:00Z), go1.26.8 linux/arm64", "false"},
		{"v9", "v9 commit 0123456789abcdef0123456789abcdef01234567 (2026-11-30T10:00:00Z), go1.26.8 linux/arm64", "false"},
	} {
		bi.Settings[3].Value = c.modified
		if got := formatVersion(bi, c.override, "linux/arm64"); got != c.want {
			t.Errorf("formatVersion(modified=%s, override %q):\n got %s\nwant %s", c.modified, c.override, got, c.want)
		}
	}
	none := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}
	if got := formatVersion(none, "", "darwin/arm64"); !strings.HasPrefix(got, "(devel) (no commit recorded") || !strings.HasSuffix(got, "go1.26.8 darwin/arm64") {
		t.Errorf("without VCS settings: %s", got)
	}
}

// `iosbackup version` and `--version` of a binary built with -buildvcs=true print what
// the toolchain recorded in it, as `go version -m` reads it back.
func TestVersionCommandMatchesBuildInfo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "iosbackup")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	recorded := map[string]string{}
	for _, line := range strings.Split(string(meta), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			recorded["version"] = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			recorded[k] = v
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("iosbackup %s: %v", args[0], err)
		}
		line := strings.TrimSpace(string(out))
		want := []string{"iosbackup version " + recorded["version"] + " ", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
		if rev := recorded["vcs.revision"]; rev != "" {
			want = append(want, "commit "+rev+" ("+recorded["vcs.time"])
			if recorded["vcs.modified"] == "true" {
				want = append(want, ", modified)")
			}
		} else {
			// A git worktree (.git is a file) gets no VCS stamp from the go command.
			want = append(want, "no commit recorded")
			t.Logf("the toolchain recorded no commit here (%s)", gitKind())
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("iosbackup %s: %q lacks %q (go version -m: %v)", args[0], line, w, recorded)
			}
		}
	}
}

func gitKind() string {
	for dir, _ := os.Getwd(); dir != "/"; dir = filepath.Dir(dir) {
		if st, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			if st.IsDir() {
				return "a git checkout"
			}
			return "a git worktree"
		}
	}
	return "not in git"
}
