//go:build !windows

package fuse

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/fs/view"
)

// link is a symlink of the tree as seen at one view path.
type link struct {
	fs.Inode
	readOnly
	v view.Link
}

var (
	_ = (fs.NodeReadlinker)((*link)(nil))
	_ = (fs.NodeGetattrer)((*link)(nil))
	_ = (fs.NodeGetxattrer)((*link)(nil))
	_ = (fs.NodeListxattrer)((*link)(nil))
	_ = (fs.NodeSetattrer)((*link)(nil))
)

func (l *link) viewNode() view.Node { return l.v }

func (l *link) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	return []byte(l.v.Target()), 0
}

func (l *link) Getattr(ctx context.Context, fh fs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	fillAttr(&out.Attr, l.v.Attr())
	return 0
}

func (l *link) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return getxattr(l.v.XAttrs(), attr, dest)
}

func (l *link) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return listxattr(l.v.XAttrs(), dest)
}
