//go:build !unix

package capture

import (
	"io/fs"
	"os"
)

// Elsewhere the store works through os.Root by path (see storedirs_unix.go).

func (s *store) closeDirs() {}

func (s *store) createExclusive(rel string) (*os.File, error) {
	return s.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

func (s *store) lstatRel(rel string) (fs.FileInfo, error) { return s.root.Lstat(rel) }

func (s *store) renameFile(from, to string) error { return s.root.Rename(from, to) }

// folderHandle is unused here.
type folderHandle struct{}
