package manifest

import (
	"io"
	"io/fs"
	"path"
	"time"
)

// ReaderFS returns a read-only fs.FS holding one regular file, name, whose bytes are
// read from r (for instance a decrypting reader). Each Open returns an independent
// handle with its own offset, implementing io.Reader, io.Seeker, io.ReaderAt and Stat:
// what modernc.org/sqlite/vfs needs to read a database from memory or through a
// transformation, without the bytes ever touching the disk.
//
// r must allow concurrent ReadAt calls, as io.ReaderAt documents. This is the one copy
// of this adapter in the project: other packages (decrypt included) should use it
// rather than write another.
func ReaderFS(name string, r io.ReaderAt, size int64) fs.FS {
	return readerFS{files: map[string]readerFile{name: {r: r, size: size}}}
}

// readerFS serves a fixed set of files, each backed by an io.ReaderAt of known size.
type readerFS struct {
	files map[string]readerFile
}

type readerFile struct {
	r    io.ReaderAt
	size int64
}

func (f readerFS) Open(name string) (fs.File, error) {
	rf, ok := f.files[name]
	if !ok || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &readerHandle{SectionReader: io.NewSectionReader(rf.r, 0, rf.size), name: name}, nil
}

type readerHandle struct {
	*io.SectionReader
	name string
}

func (h *readerHandle) Stat() (fs.FileInfo, error) { return readerInfo{h}, nil }
func (h *readerHandle) Close() error               { return nil }

type readerInfo struct{ h *readerHandle }

func (i readerInfo) Name() string       { return path.Base(i.h.name) }
func (i readerInfo) Size() int64        { return i.h.Size() }
func (i readerInfo) Mode() fs.FileMode  { return 0o444 }
func (i readerInfo) ModTime() time.Time { return time.Time{} }
func (i readerInfo) IsDir() bool        { return false }
func (i readerInfo) Sys() any           { return nil }
