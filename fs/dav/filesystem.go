package dav

import (
	"context"
	"os"
	"strings"

	"golang.org/x/net/webdav"

	"iosbackup/fs/view"
)

// FileSystem is the tree as a read-only webdav.FileSystem. The write methods answer
// os.ErrPermission; Handler refuses write requests before they get here anyway.
type FileSystem struct {
	root *view.Root
}

var _ webdav.FileSystem = (*FileSystem)(nil)

// NewFileSystem serves root.
func NewFileSystem(root *view.Root) *FileSystem { return &FileSystem{root: root} }

func (fs *FileSystem) Mkdir(ctx context.Context, name string, perm os.FileMode) error {
	return os.ErrPermission
}

func (fs *FileSystem) RemoveAll(ctx context.Context, name string) error { return os.ErrPermission }

func (fs *FileSystem) Rename(ctx context.Context, oldName, newName string) error {
	return os.ErrPermission
}

// OpenFile opens name for reading. Nothing is read yet: PROPFIND opens every file it
// lists, so a file's contents are opened only when they are first read or seeked.
func (fs *FileSystem) OpenFile(ctx context.Context, name string, flag int, perm os.FileMode) (webdav.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, os.ErrPermission
	}
	n, err := fs.resolve(name)
	if err != nil {
		return nil, err
	}
	return &file{name: name, node: n, info: newFileInfo(baseName(name), n)}, nil
}

func (fs *FileSystem) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	n, err := fs.resolve(name)
	if err != nil {
		return nil, err
	}
	return newFileInfo(baseName(name), n), nil
}

// resolve finds the node of a slash-separated path. Symlinks are not served: WebDAV
// has no such thing, and following them would show one file under several names (and
// a link to a parent folder would make every recursive client loop).
func (fs *FileSystem) resolve(name string) (view.Node, error) {
	n := fs.root.Resolve(name)
	if n == nil || n.Kind() == view.KindSymlink {
		return nil, os.ErrNotExist
	}
	return n, nil
}

func baseName(name string) string {
	name = strings.TrimRight(name, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		return "/"
	}
	return name
}
