package fuse

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Linux kernels since 6.6 ask FUSE for the birth time through STATX (stat(1) shows it
// as "Birth"); older ones never send it and use GETATTR.
func statx(n node, out *gofuse.StatxOut) syscall.Errno {
	var a gofuse.Attr
	n.fill(&a)
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
	s.Btime = gofuse.SxTime{Sec: uint64(n.btime())}
	return 0
}

var (
	_ = (fs.NodeStatxer)((*virtualDir)(nil))
	_ = (fs.NodeStatxer)((*entryDir)(nil))
	_ = (fs.NodeStatxer)((*deviceDir)(nil))
	_ = (fs.NodeStatxer)((*fileNode)(nil))
	_ = (fs.NodeStatxer)((*linkNode)(nil))
	_ = (fs.NodeStatxer)((*noteFile)(nil))
)

func (d *virtualDir) Statx(ctx context.Context, f fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(d, out)
}

func (d *entryDir) Statx(ctx context.Context, f fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(d, out)
}

func (d *deviceDir) Statx(ctx context.Context, f fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(d, out)
}

func (f *fileNode) Statx(ctx context.Context, fh fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(f, out)
}

func (l *linkNode) Statx(ctx context.Context, fh fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(l, out)
}

func (n *noteFile) Statx(ctx context.Context, fh fs.FileHandle, flags, mask uint32, out *gofuse.StatxOut) syscall.Errno {
	return statx(n, out)
}
