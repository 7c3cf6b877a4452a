//go:build unix

package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// Receiving a file takes three operations on two folders: create it in the temporary
// folder, check what its final name holds, rename it there (and moving it out of
// Snapshot/ afterwards three more). Through os.Root each of
// them opens and closes every folder on the way from the root (six levels for
// UDID.staging/Snapshot/ab/...): 28 openat and close calls per file, 128,000 for a
// 4,600-file capture (make bench W8), more system time than the data. So the store
// keeps the folders it works in open (dirHandle) and works relative to them: three
// calls per file. The handles are opened through the root, never by path, and are
// dropped whenever the store's folders may change (dirsChanged).

// folderHandle is an open folder of the store: as a root for lookups by name and as a
// descriptor for openat and renameat.
type folderHandle struct {
	r  *os.Root
	f  *os.File
	fd int // f.Fd(), taken once: each call of Fd costs fcntl calls
}

// dirHandle returns the folder rel (relative to the root) opened, from the cache.
func (s *store) dirHandle(rel string) (*folderHandle, error) {
	if h := s.dirs[rel]; h != nil {
		return h, nil
	}
	r, err := s.root.OpenRoot(rel)
	if err != nil {
		return nil, err
	}
	f, err := r.Open(".")
	if err != nil {
		r.Close()
		return nil, err
	}
	if s.dirs == nil {
		s.dirs = map[string]*folderHandle{}
	}
	h := &folderHandle{r: r, f: f, fd: int(f.Fd())}
	s.dirs[rel] = h
	return h, nil
}

// closeDirs closes the cached folder handles.
func (s *store) closeDirs() {
	for _, h := range s.dirs {
		h.f.Close()
		h.r.Close()
	}
	s.dirs = nil
}

// lstatRel is Lstat of rel (relative to the root) by name in its cached folder.
func (s *store) lstatRel(rel string) (fs.FileInfo, error) {
	h, err := s.dirHandle(path.Dir(rel))
	if err != nil {
		return nil, err
	}
	fi, err := h.r.Lstat(path.Base(rel))
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: rel, Err: errors.Unwrap(err)}
	}
	return fi, nil
}

// createExclusive creates the new file rel for writing; an existing name (a symlink
// included) is an error.
func (s *store) createExclusive(rel string) (*os.File, error) {
	d, err := s.dirHandle(path.Dir(rel))
	if err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd, path.Base(rel), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: rel, Err: err}
	}
	return os.NewFile(uintptr(fd), path.Join(s.rootDir, rel)), nil
}

// renameFile moves the file from to the name to (both relative to the root; the
// folder of to exists).
func (s *store) renameFile(from, to string) error {
	a, err := s.dirHandle(path.Dir(from))
	if err != nil {
		return err
	}
	b, err := s.dirHandle(path.Dir(to))
	if err != nil {
		return err
	}
	if err := unix.Renameat(a.fd, path.Base(from), b.fd, path.Base(to)); err != nil {
		return fmt.Errorf("rename %s to %s: %w", from, to, err)
	}
	return nil
}
