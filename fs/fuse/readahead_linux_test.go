package fuse

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"iosbackup/fs/view"
)

// A mount made by root gets the larger readahead window; the device is found from
// stat(2) of the mount point, independently of how Mount finds it.
func TestMountRaisesReadahead(t *testing.T) {
	m := mountRoot(t, view.Options{}, view.Backup{Source: newFixture("b")})
	var st syscall.Stat_t
	if err := syscall.Stat(m.dir, &st); err != nil {
		t.Fatal(err)
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	raw, err := os.ReadFile(filepath.Join("/sys/class/bdi", dev, "read_ahead_kb"))
	if err != nil {
		t.Fatalf("readahead of the mount (bdi %s): %v", dev, err)
	}
	got, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("read_ahead_kb %q: %v", raw, err)
	}
	if os.Geteuid() != 0 {
		t.Skipf("not root: read_ahead_kb stays %d", got)
	}
	if got != readaheadKiB {
		t.Errorf("read_ahead_kb of the mount = %d, want %d", got, readaheadKiB)
	}
}

// The kernel writes space, tab, newline and backslash in mountinfo paths as octal.
func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/plain`:                  "/mnt/plain",
		`/mnt/my\040phone`:            "/mnt/my phone",
		`/mnt/a\011b\012c`:            "/mnt/a\tb\nc",
		`/mnt/back\134slash`:          `/mnt/back\slash`,
		`/mnt/end\04`:                 `/mnt/end\04`, // cut short: left as it is
		`/mnt/not\9999octal`:          `/mnt/not\9999octal`,
		`/media/iPhone\0402026-01-02`: "/media/iPhone 2026-01-02",
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
