package fuse

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// mountRecord is one line of /proc/self/mountinfo, the parts we use.
type mountRecord struct {
	Dev    string // major:minor
	Path   string // the mount point, unescaped
	FSType string // "fuse.iosbackup", "tmpfs", ...
	Source string // "iosbackup", "/dev/sda1", ...
}

// ourFSType is how our mounts name themselves in mountinfo: go-fuse (and fusermount)
// type a FUSE mount as "fuse." + its Name option, which Mount sets to "iosbackup".
const ourFSType = "fuse.iosbackup"

// parseMountinfo reads mountinfo lines:
//
//	ID parent major:minor root mountpoint options [optional fields...] - type source superoptions
//
// Lines that do not have that shape are skipped: the kernel writes no such lines, and a
// reader of what is mounted must not stop at one it does not understand.
func parseMountinfo(r io.Reader) ([]mountRecord, error) {
	var out []mountRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 {
			continue
		}
		rec := mountRecord{Dev: fields[2], Path: unescapeMountinfo(fields[4])}
		if sep >= 0 && sep+1 < len(fields) {
			rec.FSType = unescapeMountinfo(fields[sep+1])
			if sep+2 < len(fields) {
				rec.Source = unescapeMountinfo(fields[sep+2])
			}
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// mountAt finds the filesystem mounted at the absolute path p: the last line wins, it is
// the mount on top. ok is false when nothing is mounted exactly there.
func mountAt(p string) (rec mountRecord, ok bool, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return rec, false, err
	}
	defer f.Close()
	all, err := parseMountinfo(f)
	if err != nil {
		return rec, false, fmt.Errorf("/proc/self/mountinfo: %w", err)
	}
	for _, r := range all {
		if r.Path == p {
			rec, ok = r, true
		}
	}
	return rec, ok, nil
}

// canonicalMountpoint makes p absolute with the symlinks of its parent resolved, as
// mountinfo writes it. The last component is left alone: resolving it would ask the
// filesystem mounted there, which may be a FUSE server that no longer answers.
func canonicalMountpoint(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if abs == "/" {
		return abs, nil
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", err
	}
	return filepath.Join(parent, filepath.Base(abs)), nil
}
