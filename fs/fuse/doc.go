//go:build !windows

// Package fuse mounts the tree of fs/view as a read-only FUSE filesystem
// (github.com/hanwen/go-fuse/v2). What the mount shows, and why, is the tree's
// business (see package view); this package turns its nodes into go-fuse nodes, one
// file per kind (dir.go, file.go, link.go), with inode numbers taken from the tree
// (inode.go), and mounts, unmounts, raises readahead and answers extended attributes.
// go-fuse has no Windows port, so neither has this package (every file is built for
// everything but Windows); there the command offers serve (WebDAV, package dav).
//
// Decisions a user can observe here:
//   - Read-only twice: the mount is "ro" and every node answers EROFS itself.
//   - Extended attributes get the "user." prefix on Linux (com.apple.FinderInfo reads
//     as user.com.apple.FinderInfo); when the backup has none, the kernel is told to
//     stop asking.
//   - A file whose blob is missing or unreadable fails with EIO.
//
// # Using it
//
//	tree := view.New(view.Options{}, view.Backup{Source: src})
//	server, err := fuse.Mount(dir, tree, fuse.MountOptions{})
//	// ready: tell the user
//	server.Wait() // until unmounted; on Ctrl-C call server.Unmount(), and if the
//	              // mount is busy fuse.Unmount(dir) to list holders and detach it
//
// go-fuse inodes exist only for names the kernel has looked up.
package fuse
