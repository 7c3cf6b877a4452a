// Package testenv is for tests only: what a test needs from the machine (a Debian
// tool, FUSE) and what it does when that is missing. Outside CI a missing tool skips
// the test, naming the package to install; with CI=true it fails the test, because CI
// must run everything.
//
// The tools and their packages come from scripts/deps.list, the list `make deps`
// installs from, so a test cannot need a tool that `make test` does not provide.
package testenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where nothing may be skipped
// for want of a tool.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops the test for want of something on this machine: t.Fatalf under
// CI, t.Skipf otherwise. why says what is missing and how to get it.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: a missing tool is a failure)", why)
	}
	t.Skipf("skipped: %s", why)
}

// RequireTool returns the path of command name, or stops the test (see Unavailable)
// naming the Debian package that provides it. A command that is not in
// scripts/deps.list fails the test: add it there, so `make deps` installs it.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	pkg, err := packageOf(name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	path, err := exec.LookPath(name)
	if err != nil && !debianTools {
		// Not even CI can install a Debian package for a Windows binary.
		t.Skipf("skipped: %s is a Debian tool (%s): this test runs in the Linux pass of make test, not as a Windows binary", name, pkg)
	}
	if err != nil {
		path, err = lookSbin(name)
	}
	if err != nil {
		Unavailable(t, fmt.Sprintf("%s is not installed (Debian package %s: make deps, or apt-get install %s)", name, pkg, pkg))
	}
	return path
}

// lookSbin finds a command Debian installs in /usr/sbin or /sbin (mount.davfs), which
// are not in an ordinary user's PATH.
func lookSbin(name string) (string, error) {
	var err error
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		var p string
		if p, err = exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", err
}

// RequireFUSE stops the test (see Unavailable) unless this process can mount with
// FUSE: /dev/fuse opens for reading and writing, and a non-root user has fusermount3
// (root mounts with mount(2) directly).
func RequireFUSE(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		Unavailable(t, fmt.Sprintf("FUSE is not usable here: %v", err))
	}
	f.Close()
	if os.Geteuid() != 0 {
		RequireTool(t, "fusermount3")
	}
}

var (
	depsOnce sync.Once
	deps     map[string]string // command -> Debian package
	depsErr  error
)

// packageOf looks command name up in scripts/deps.list.
func packageOf(name string) (string, error) {
	depsOnce.Do(func() { deps, depsErr = readDepsList(depsListPath()) })
	if depsErr != nil {
		return "", depsErr
	}
	pkg, ok := deps[name]
	if !ok {
		return "", fmt.Errorf("%s is not in %s: add the command and its Debian package there", name, depsListPath())
	}
	return pkg, nil
}

// depsListPath is scripts/deps.list of the module this file was compiled from.
func depsListPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "deps.list")
}

// readDepsList parses the list's lines "command package groups why...", skipping
// blank lines and comments.
func readDepsList(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the list of Debian packages: %w", err)
	}
	defer f.Close()
	m := map[string]string{}
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want \"command package groups why\", got %q", path, n, line)
		}
		m[fields[0]] = fields[1]
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
