package fuse

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// readaheadKiB is the kernel readahead window asked for a mount. The kernel starts a
// FUSE mount at its default of 128 KiB, whatever max_readahead the filesystem offers,
// so a sequential read of a big file reaches us as a trickle of 128 KiB requests and
// cold reads ran at half the disk's speed; with 4 MiB, four 1 MiB requests are in
// flight. Random readers (SQLite) are not hurt: the window only grows for reads that
// are sequential.
const readaheadKiB = 4096

// raiseReadahead sets the readahead window of the mount at mountpoint (its backing
// device info in sysfs). Only root may write there; for others it is left as it is.
func raiseReadahead(mountpoint string) error {
	dev, err := mountDevice(mountpoint)
	if err != nil {
		return err
	}
	p := filepath.Join("/sys/class/bdi", dev, "read_ahead_kb")
	if err := os.WriteFile(p, []byte(strconv.Itoa(readaheadKiB)), 0); err != nil {
		return fmt.Errorf("readahead of %s: %w", mountpoint, err)
	}
	return nil
}

// mountDevice is the "major:minor" of the filesystem mounted at mountpoint, from
// /proc/self/mountinfo (no request to the mount itself, which may not serve yet). The
// last line wins: it is the mount on top.
func mountDevice(mountpoint string) (string, error) {
	abs, err := filepath.Abs(mountpoint)
	if err != nil {
		return "", err
	}
	rec, ok, err := mountAt(abs)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%s: not in /proc/self/mountinfo", abs)
	}
	return rec.Dev, nil
}

// unescapeMountinfo undoes the octal escapes (\040 for a space, \011, \012, \134) of
// a mountinfo path.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
