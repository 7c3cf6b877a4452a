package fuse

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"iosbackup/fs/view"
)

// Linux kernels since 6.6 ask FUSE for the birth time through STATX (stat(1) shows it
// as "Birth"); older ones never send it and use GETATTR.
func statx(n view.Node, out *gofuse.StatxOut) syscall.Errno {
	va := n.Attr()
	var a gofuse.Attr
	fillAttr(&a, va)
	s := &out.Statx
	s.Mask = unix.STATX_BASIC_STATS | unix.STATX_BTIME
	s.Blksize = a.Blksize
	s.Nlink = a.Nlink
	s.Uid, s.Gid = a.Uid, a.Gid
	s.Mode = uint16(a.Mode)
	s.Ino = a.Ino
	s.Size = a.Size
	s.Blocks = a.Blocks
	s.Atime = gofuse.SxTime{Sec: a.Atime, Nsec: a.Atimensec}
	s.Mtime = gofuse.SxTime{Sec: a.Mtime, Nsec: a.Mtimensec}
	s.Ctime = gofuse.SxTime{Sec: a.Ctime, Nsec: a.Ctimensec}
	s.Btime = gofuse.SxTime{Sec: uint64(va.Birth)}
	return 0
}

var (
	_ = (fs.NodeStatxer)((*dir)(nil))
	_ = (fs.NodeStatxer)((*file)(nil))
	_ = (fs.NodeStatxer)((*link)(nil))
)

func (d *dir) Statx(ctx context.Context, f fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(d.v, out)
}

func (f *file) Statx(ctx context.Context, fh fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(f.v, out)
}

func (l *link) Statx(ctx context.Context, fh fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(l.v, out)
}
