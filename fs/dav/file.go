package dav

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"iosbackup/fs/view"
)

// file is one open node: a folder to list, or a file to read sequentially (GET goes
// through http.ServeContent, which seeks and reads).
type file struct {
	name string
	node view.Node
	info fileInfo

	mu    sync.Mutex
	cur   view.Cursor // folders: where Readdir(n > 0) is
	r     view.Reader // files: opened on first Read or Seek
	off   int64
	buf   []byte // read ahead of off: buf holds the bytes from bufAt
	bufAt int64
}

// readChunk is how much one read of the backup asks for: the HTTP server copies in
// 32 KiB pieces, and an encrypted file decrypts best in long runs.
const readChunk = 1 << 20

var errIsDir = errors.New("is a folder")

func (f *file) Stat() (os.FileInfo, error) { return f.info, nil }

func (f *file) Write(p []byte) (int, error) { return 0, os.ErrPermission }

func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r == nil {
		return nil
	}
	err := f.r.Close()
	f.r = nil
	return err
}

// Readdir lists the folder's children in name order, symlinks left out (see
// FileSystem.resolve). The sizes their attributes need are looked up in parallel first.
func (f *file) Readdir(count int) ([]os.FileInfo, error) {
	d, ok := f.node.(view.Dir)
	if !ok {
		return nil, fmt.Errorf("%s: not a folder", f.name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		d.Prefetch()
		f.cur = d.List()
	}
	var out []os.FileInfo
	for count <= 0 || len(out) < count {
		name, n := f.cur.Next()
		if n == nil {
			break
		}
		if n.Kind() == view.KindSymlink {
			continue
		}
		out = append(out, newFileInfo(name, n))
	}
	if count > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// open opens the contents on first use; f.mu is held.
func (f *file) open() error {
	if f.r != nil {
		return nil
	}
	v, ok := f.node.(view.File)
	if !ok {
		return fmt.Errorf("%s: %w", f.name, errIsDir)
	}
	r, err := v.Open()
	if err != nil {
		return err
	}
	f.r = r
	return nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.open(); err != nil {
		return 0, err
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.r.Size()
	default:
		return 0, fmt.Errorf("%s: seek: bad whence %d", f.name, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("%s: seek to %d: negative offset", f.name, offset)
	}
	f.off = offset
	return offset, nil
}

// Read serves from a chunk read ahead with one ReadAt.
func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.open(); err != nil {
		return 0, err
	}
	if f.off < f.bufAt || f.off >= f.bufAt+int64(len(f.buf)) {
		if err := f.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, f.buf[f.off-f.bufAt:])
	f.off += int64(n)
	return n, nil
}

// fill reads the chunk at f.off.
func (f *file) fill() error {
	if f.off >= f.r.Size() {
		return io.EOF
	}
	if cap(f.buf) < readChunk {
		f.buf = make([]byte, readChunk)
	}
	want := min(int64(readChunk), f.r.Size()-f.off)
	n, err := f.r.ReadAt(f.buf[:want], f.off)
	f.buf, f.bufAt = f.buf[:n], f.off
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}
