package backup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotRegular: a file of the backup (a blob, a manifest, a property list) is a
// symlink, named pipe, device, socket or folder. A backup holds regular files only; a
// symlink would make us read (and serve, and extract) a file outside the backup, and
// opening a named pipe blocks forever, so neither is ever opened.
var ErrNotRegular = errors.New("not a regular file")

// folder is the one way the files of a backup folder are opened. Every name is
// resolved through an os.Root of the folder, so no path (a symlinked xx/ folder
// included) leads outside it; the file itself must be a regular file, checked with
// lstat before opening (a symlink is never followed, a device never opened) and with
// fstat after (the name may have been replaced in between). Opening uses O_NONBLOCK, so
// a pipe swapped in at that moment cannot block either.
type folder struct {
	dir  string
	root *os.Root
}

func openFolder(dir string) (*folder, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open backup: %w", err)
	}
	return &folder{dir: dir, root: r}, nil
}

// Close releases the folder's descriptor (a finalizer does it for a folder left open).
func (f *folder) Close() error { return f.root.Close() }

// path is name (slash-separated, relative to the folder) as the user knows it.
func (f *folder) path(name string) string { return filepath.Join(f.dir, filepath.FromSlash(name)) }

// has reports whether anything (of any type) is at name: a symlinked Manifest.db still
// makes the folder a backup, whose opening then fails naming it.
func (f *folder) has(name string) bool {
	_, err := f.root.Lstat(name)
	return err == nil
}

// stat returns the information of the regular file at name, without opening it.
func (f *folder) stat(name string) (fs.FileInfo, error) {
	fi, err := f.root.Lstat(name)
	if err != nil {
		return nil, f.pathError("lstat", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, f.notRegular(name, fi.Mode())
	}
	return fi, nil
}

// open opens the regular file at name for reading. The returned info is the open
// file's own (its size is the size of what is read).
func (f *folder) open(name string) (*os.File, fs.FileInfo, error) {
	before, err := f.stat(name)
	if err != nil {
		return nil, nil, err
	}
	h, err := f.root.OpenFile(name, os.O_RDONLY|openNoBlock, 0)
	if err != nil {
		return nil, nil, f.pathError("open", name, err)
	}
	fi, err := h.Stat()
	if err != nil {
		h.Close()
		return nil, nil, f.pathError("fstat", name, err)
	}
	if !fi.Mode().IsRegular() {
		h.Close()
		return nil, nil, f.notRegular(name, fi.Mode())
	}
	if !os.SameFile(before, fi) {
		h.Close()
		return nil, nil, fmt.Errorf("%s: replaced while being opened", f.path(name))
	}
	return h, fi, nil
}

// readBounded reads the whole regular file at name, refusing one larger than limit.
func (f *folder) readBounded(name string, limit int64) ([]byte, error) {
	h, fi, err := f.open(name)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", f.path(name), fi.Size(), limit)
	}
	// The limit also holds if the file grows after Stat.
	data, err := io.ReadAll(io.LimitReader(h, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.path(name), err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes allowed", f.path(name), limit)
	}
	return data, nil
}

// pathError names the file by its full path; os.Root's errors carry the relative name.
func (f *folder) pathError(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &fs.PathError{Op: op, Path: f.path(name), Err: err}
}

func (f *folder) notRegular(name string, m fs.FileMode) error {
	return fmt.Errorf("%s: %w (%s)", f.path(name), ErrNotRegular, kindOf(m))
}

// kindOf names a non-regular file type for an error message.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink, not followed"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return "type " + m.Type().String()
}
