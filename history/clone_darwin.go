package history

import "golang.org/x/sys/unix"

// reflink clones src to a new dst with clonefile(2) (APFS).
func reflink(src, dst string) error {
	return unix.Clonefile(src, dst, unix.CLONE_NOFOLLOW)
}
