package capture

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// exchange swaps the folders a and b (relative to rootDir) in one step with
// renamex_np(RENAME_SWAP) (APFS, HFS+).
func exchange(rootDir, a, b string) error {
	err := unix.RenamexNp(filepath.Join(rootDir, a), filepath.Join(rootDir, b), unix.RENAME_SWAP)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENOSYS) {
		return errNoExchange
	}
	return err
}
