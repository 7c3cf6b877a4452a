//go:build !windows

package fuse

import (
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/fs/view"
)

// fillAttr turns the tree's attributes into the kernel's.
func fillAttr(out *gofuse.Attr, a view.Attr) {
	out.Ino = a.Ino
	out.Mode = typeBits(a.Kind) | a.Perm
	out.Nlink = a.Nlink
	out.Uid, out.Gid = a.UID, a.GID
	size := a.Size
	if a.Kind == view.KindDir {
		size = 0
	}
	out.Size = uint64(size)
	out.Blksize = 4096
	out.Blocks = (uint64(size) + 4095) / 4096 * 8 // 512-byte units, what du sums
	out.Mtime, out.Atime, out.Ctime = uint64(a.MTime), uint64(a.MTime), uint64(a.CTime)
	setBirth(out, a.Birth)
}
