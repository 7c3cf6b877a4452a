package view

import (
	"crypto/sha256"
	"encoding/binary"

	"iosbackup/manifest"
)

// Inode numbers are a hash of (backup identity, kind, name): the same in every mount of
// the same backup, so tools that remember inodes (rsync, restic, find -inum) see stable
// files. A file's name is (domain, path), whatever view shows it, so all its views share
// one inode; a folder's name is its view path, because a directory can have only one
// parent in the kernel's dentry cache.
const (
	inoFile = 'f' // files, and symlinks with RawSymlinks
	inoDir  = 'd' // directories: view path
	inoLink = 'l' // relativized symlinks: view path (the target depends on it)
)

// RootIno is the inode number of the tree's root folder (FUSE's root node ID).
const RootIno = 1

func hashIno(id string, kind byte, a, b string) uint64 {
	var buf [256]byte
	s := append(buf[:0], id...)
	s = append(s, 0, kind, 0)
	s = append(s, a...)
	s = append(s, 0)
	s = append(s, b...)
	sum := sha256.Sum256(s)
	v := binary.LittleEndian.Uint64(sum[:8])
	// 0 means "pick one" to go-fuse, 1 is the root (RootIno), ^0 is reserved by go-fuse.
	if v <= 1 || v == ^uint64(0) {
		v = 2
	}
	return v
}

func (t *tree) fileIno(e *manifest.Entry) uint64 { return hashIno(t.id, inoFile, e.Domain, e.Path) }
func (t *tree) dirIno(viewPath string) uint64    { return hashIno(t.id, inoDir, viewPath, "") }

// fileInoAt is fileIno for the entry at idx, numbered by its blob when the tree shares
// inodes across snapshots.
func (t *tree) fileInoAt(idx int32) uint64 {
	e := t.ix.Entry(idx)
	if t.blobs != nil && e.Kind == manifest.KindFile {
		if ino, ok := t.blobs.ino(e, idx); ok {
			return ino
		}
	}
	return t.fileIno(e)
}
