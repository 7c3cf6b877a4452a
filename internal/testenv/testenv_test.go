package testenv

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that notes a Fatalf or Skipf and stops the goroutine, as
// the real ones do.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, a ...any) {
	r.failed = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, a ...any) {
	r.skipped = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

// outcome runs f with a recorder in a goroutine of its own (Goexit ends it).
func outcome(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestDepsListNamesAPackageForEveryTool(t *testing.T) {
	m, err := readDepsList(depsListPath())
	if err != nil {
		t.Fatal(err)
	}
	// The tools the tests of this module drive today, with their Debian packages.
	for tool, pkg := range map[string]string{
		"fusermount3": "fuse3", "getfattr": "attr", "setfattr": "attr", "sqlite3": "sqlite3",
		"idevicebackup2": "libimobiledevice-utils", "qemu-aarch64": "qemu-user", "shellcheck": "shellcheck",
		"wine": "wine", "x86_64-w64-mingw32-gcc": "gcc-mingw-w64-x86-64",
	} {
		if m[tool] != pkg {
			t.Errorf("deps.list: %s -> %q, want %q", tool, m[tool], pkg)
		}
	}
}

func TestMissingToolSkipsOutsideCIAndFailsInCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // nothing on it
	t.Setenv("CI", "")
	r := outcome(t, func(tb testing.TB) { RequireTool(tb, "getfattr") })
	if r.failed != "" || !strings.Contains(r.skipped, "getfattr") || !strings.Contains(r.skipped, "apt-get install attr") {
		t.Errorf("outside CI: failed %q, skipped %q; want a skip naming getfattr and package attr", r.failed, r.skipped)
	}
	t.Setenv("CI", "true")
	r = outcome(t, func(tb testing.TB) { RequireTool(tb, "getfattr") })
	if r.skipped != "" || !strings.Contains(r.failed, "apt-get install attr") {
		t.Errorf("CI=true: failed %q, skipped %q; want a failure naming package attr", r.failed, r.skipped)
	}
	t.Setenv("CI", "")
	r = outcome(t, func(tb testing.TB) { RequireFUSE(tb) })
	if r.failed != "" || r.skipped == "" && os.Geteuid() != 0 {
		t.Errorf("RequireFUSE without fusermount3 on PATH: failed %q, skipped %q", r.failed, r.skipped)
	}
}

func TestPresentToolIsFound(t *testing.T) {
	sh := RequireTool(t, "sqlite3")
	if !strings.HasSuffix(sh, "/sqlite3") {
		t.Errorf("RequireTool(sqlite3) = %q", sh)
	}
}

func TestUnlistedToolFailsEvenOutsideCI(t *testing.T) {
	t.Setenv("CI", "")
	r := outcome(t, func(tb testing.TB) { RequireTool(tb, "sh") })
	if !strings.Contains(r.failed, "not in") || !strings.Contains(r.failed, "deps.list") {
		t.Errorf("RequireTool(sh), not in the list: failed %q, skipped %q; want a failure saying to add it", r.failed, r.skipped)
	}
}
