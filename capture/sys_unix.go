//go:build unix && !linux

package capture

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// syncFS flushes written data. Without syncfs(2), sync(2) is the one call that covers
// every file of the capture.
func syncFS(dir string) error {
	unix.Sync()
	return nil
}

// freeBytes is the space available to this user on the file system that holds dir.
func freeBytes(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
