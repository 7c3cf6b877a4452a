package capture

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// exchange swaps the folders a and b (relative to rootDir) in one step with
// renameat2(RENAME_EXCHANGE) (Linux 3.15; ext4, XFS, btrfs, tmpfs, ...).
func exchange(rootDir, a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(rootDir, a), unix.AT_FDCWD, filepath.Join(rootDir, b), unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return errNoExchange
	}
	return err
}
