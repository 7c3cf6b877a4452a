//go:build !windows

package fuse

import (
	"context"
	"io"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/fs/view"
)

// file is a regular file of the tree. It has one inode in all views.
type file struct {
	fs.Inode
	readOnly
	v view.File
}

var (
	_ = (fs.NodeOpener)((*file)(nil))
	_ = (fs.NodeGetattrer)((*file)(nil))
	_ = (fs.NodeGetxattrer)((*file)(nil))
	_ = (fs.NodeListxattrer)((*file)(nil))
	_ = (fs.NodeSetxattrer)((*file)(nil))
	_ = (fs.NodeRemovexattrer)((*file)(nil))
	_ = (fs.NodeSetattrer)((*file)(nil))
	_ = (fs.NodeWriter)((*file)(nil))
	_ = (fs.NodeAllocater)((*file)(nil))
	_ = (fs.NodeFsyncer)((*file)(nil))
	_ = (fs.NodeAccesser)((*file)(nil))
)

func (f *file) viewNode() view.Node { return f.v }

func (f *file) Getattr(ctx context.Context, fh fs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	fillAttr(&out.Attr, f.v.Attr())
	return 0
}

func (f *file) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return getxattr(f.v.XAttrs(), attr, dest)
}

func (f *file) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return listxattr(f.v.XAttrs(), dest)
}

// Open gives the handle its own reader, so concurrent readers never share a lock.
// Contents never change: the kernel may keep its page cache across opens. Nothing is
// written, so there is nothing to flush at close(2): FOPEN_NOFLUSH (Linux 5.16 and
// later; older kernels ignore it) saves the FLUSH round trip of every close: cp -r of
// a generated backup's domains/ (48 files) sent 48 FLUSH before, none now. A file that
// cannot be read fails with EIO (the tree has logged why).
func (f *file) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		return nil, 0, syscall.EROFS
	}
	r, err := f.v.Open()
	if err != nil {
		return nil, 0, syscall.EIO
	}
	h := &fileHandle{r: r, c: f.c}
	f.c.open.Store(h, struct{}{})
	return h, gofuse.FOPEN_KEEP_CACHE | gofuse.FOPEN_NOFLUSH, 0
}

type fileHandle struct {
	r view.Reader
	c *common
}

var (
	_ = (fs.FileReader)((*fileHandle)(nil))
	_ = (fs.FileReleaser)((*fileHandle)(nil))
)

// Read fills the kernel's buffer with one ReadAt: no copy, no lock.
func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	n, err := h.r.ReadAt(dest, off)
	if err != nil && err != io.EOF {
		return nil, syscall.EIO // logged by the tree's reader
	}
	return gofuse.ReadResultData(dest[:n]), 0
}

func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	if _, open := h.c.open.LoadAndDelete(h); !open {
		return 0 // already closed when the server stopped
	}
	h.r.Close() // a failure is logged by the tree's reader
	return 0
}
