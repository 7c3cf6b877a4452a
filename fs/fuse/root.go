//go:build !windows

package fuse

import (
	"sync"

	"iosbackup/fs/view"
)

// common is what every node of one mount shares.
type common struct {
	root *view.Root

	// open holds the file handles the kernel has not released. The kernel sends
	// RELEASE asynchronously after close(2); those still queued when the filesystem is
	// unmounted never arrive, so Mount closes what is left once the server stops.
	open sync.Map // *fileHandle -> struct{}
}

// closeHandles closes every handle still open: the server has stopped.
func (c *common) closeHandles() {
	c.open.Range(func(k, _ any) bool {
		h := k.(*fileHandle)
		c.open.Delete(h)
		h.r.Close()
		return true
	})
}

// newRoot is the mount's root node: the tree's root folder (inode 1).
func newRoot(root *view.Root) (*dir, *common) {
	c := &common{root: root}
	return &dir{readOnly: readOnly{c}, v: root.Dir()}, c
}
