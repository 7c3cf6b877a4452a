package backupfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"iosbackup/internal/gen"
)

// TestTimingListing prints how long ls -lR, find and du take through the mount and on
// a copy of the same tree on disk. Opt-in (IOSBACKUP_FS_TIMING=1): it measures, it does
// not assert.
func TestTimingListing(t *testing.T) {
	if os.Getenv("IOSBACKUP_FS_TIMING") == "" {
		t.Skip("set IOSBACKUP_FS_TIMING=1 to measure listing speed")
	}
	entries := 20000
	start := time.Now()
	truth := generate(t, gen.Options{Seed: 99, Format: gen.FormatDB, Entries: entries, Encrypted: true})
	t.Logf("generated %d entries (encrypted) in %v", entries, time.Since(start))
	start = time.Now()
	src := openBackup(t, truth)
	t.Logf("opened in %v", time.Since(start))
	m := mountRoot(t, Options{}, Backup{Source: src})
	plain := mountRootWith(t, Options{}, MountOptions{NoXAttrs: true}, Backup{Source: src})
	disk := filepath.Join(t.TempDir(), "copy")
	start = time.Now()
	mustRun(t, "cp", "-a", m.dir, disk)
	t.Logf("cp -a of the mount: %v", time.Since(start))
	timeIt := func(label string, args ...string) {
		for round := 0; round < 2; round++ {
			cmd := exec.Command(args[0], args[1:]...)
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Errorf("%s: %v", label, err)
			}
			t.Logf("%-28s round %d: %v", label, round+1, time.Since(start))
		}
	}
	for _, c := range []struct {
		label string
		cmd   []string
	}{
		{"ls -lR", []string{"ls", "-lR"}},
		{"find -type f", []string{"find", "", "-type", "f"}},
		{"du -s", []string{"du", "-s"}},
	} {
		for _, where := range []struct{ name, dir string }{{"mount", m.dir}, {"mount, no xattrs", plain.dir}, {"disk", disk}} {
			args := append([]string(nil), c.cmd...)
			if args[1] == "" {
				args[1] = where.dir
			} else {
				args = append(args, where.dir)
			}
			timeIt(c.label+" ("+where.name+")", args...)
		}
	}
}
