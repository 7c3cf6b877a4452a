package history

import (
	"os"

	"golang.org/x/sys/unix"
)

// reflink clones src to a new dst with FICLONE (btrfs, XFS, bcachefs; ext4 says
// EOPNOTSUPP, a cross-device pair EXDEV).
func reflink(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd())); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
