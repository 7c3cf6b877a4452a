package bench

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// DropCache evicts path's pages from the page cache (POSIX_FADV_DONTNEED), so the next
// read of it comes from the disk: a cold read of one file without dropping every
// cache of the machine. Dirty pages are written first, or they could not be dropped.
func DropCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("drop cache: %w", err)
	}
	defer f.Close()
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("drop cache: fdatasync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop cache: fadvise %s: %w", path, err)
	}
	return nil
}
