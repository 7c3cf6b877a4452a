//go:build !windows

package fuse

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/fs/view"
)

// Inode numbers come from the tree (view.Node.Ino): a hash of the backup and the name,
// stable across mounts, the same for one file in all views, 1 for the root. go-fuse
// keys its inodes by them: looking up a file already known through another view
// returns the inode it has, so the kernel sees one file.

// node is a go-fuse node made from a node of the tree.
type node interface {
	fs.InodeEmbedder
	viewNode() view.Node
}

// newNode wraps a node of the tree for go-fuse; nil for nil.
func newNode(c *common, n view.Node) node {
	switch n := n.(type) {
	case view.Dir:
		return &dir{readOnly: readOnly{c}, v: n}
	case view.File:
		return &file{readOnly: readOnly{c}, v: n}
	case view.Link:
		return &link{readOnly: readOnly{c}, v: n}
	}
	return nil
}

func stableAttr(n view.Node) fs.StableAttr {
	return fs.StableAttr{Mode: typeBits(n.Kind()), Ino: n.Ino()}
}

func typeBits(k view.Kind) uint32 {
	switch k {
	case view.KindDir:
		return gofuse.S_IFDIR
	case view.KindSymlink:
		return gofuse.S_IFLNK
	}
	return gofuse.S_IFREG
}

// lookupIn answers a Lookup with child n of parent.
func lookupIn(ctx context.Context, c *common, parent *fs.Inode, n view.Node, out *gofuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n == nil {
		return nil, syscall.ENOENT
	}
	fillAttr(&out.Attr, n.Attr())
	return parent.NewInode(ctx, newNode(c, n), stableAttr(n)), 0
}
