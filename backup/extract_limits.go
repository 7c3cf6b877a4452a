package backup

import (
	"bufio"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"iosbackup/manifest"
)

// maxExtractDepth bounds how many folders deep extract writes. No iOS path comes near it
// (the deepest real ones are about 30), while a hostile row 10,000 folders deep made
// extract run for minutes (every file of it is created through each of its folders) and
// wrote a tree that no tool can walk by path (PATH_MAX is 4096 bytes). Deeper rows are
// reported as not extracted (counted in ExtractStats.Failed).
const maxExtractDepth = 256

// pathDepth is the number of components of a manifest path ("" is 0).
func pathDepth(p string) int {
	if p == "" {
		return 0
	}
	return strings.Count(p, "/") + 1
}

// subtreeSize counts entry i and every entry below it.
func subtreeSize(ix *manifest.Index, i int32) int {
	n := 1
	for _, c := range ix.Children(i) {
		n += subtreeSize(ix, c)
	}
	return n
}

// The modes a manifest records are the device's, not what the user wants on their disk:
// as tar does without -p, extracted files get them masked by the user's umask, and
// never setuid, setgid or sticky (a hostile backup would otherwise plant a world-writable
// or set-id file). Folders stay writable and searchable by their owner, so that their
// contents can be written.

func extractFileMode(perm uint32, umask fs.FileMode) fs.FileMode {
	return fs.FileMode(perm) & fs.ModePerm &^ umask
}

func extractDirMode(perm uint32, umask fs.FileMode) fs.FileMode {
	return extractFileMode(perm, umask) | 0o700
}

// currentUmask is the process's umask: from /proc/self/status where the kernel shows
// it (Linux 4.7+), else by umask(2) (see umaskBySetting).
func currentUmask() fs.FileMode {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return fs.FileMode(m) & fs.ModePerm
				}
			}
		}
	}
	return umaskBySetting()
}
