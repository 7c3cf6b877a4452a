package dav

import (
	"context"
	"fmt"
	"mime"
	"os"
	"path"
	"time"

	"golang.org/x/net/webdav"

	"iosbackup/fs/view"
)

// fileInfo is what a listing says of a node. It names the content type from the name
// and the ETag from the node's identity: x/net/webdav would otherwise open every file
// of a PROPFIND and read (decrypt) 512 bytes of it to guess a type, and hash nothing.
type fileInfo struct {
	name string
	a    view.Attr
}

var (
	_ os.FileInfo         = fileInfo{}
	_ webdav.ContentTyper = fileInfo{}
	_ webdav.ETager       = fileInfo{}
)

func newFileInfo(name string, n view.Node) fileInfo { return fileInfo{name: name, a: n.Attr()} }

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) ModTime() time.Time { return time.Unix(fi.a.MTime, 0) }
func (fi fileInfo) IsDir() bool        { return fi.a.Kind == view.KindDir }
func (fi fileInfo) Sys() any           { return fi.a }

func (fi fileInfo) Size() int64 {
	if fi.IsDir() {
		return 0
	}
	return fi.a.Size
}

func (fi fileInfo) Mode() os.FileMode {
	m := os.FileMode(fi.a.Perm & 0o777)
	if fi.IsDir() {
		m |= os.ModeDir
	}
	return m
}

// ContentType is decided by the name alone, never by reading the file.
func (fi fileInfo) ContentType(ctx context.Context) (string, error) {
	return contentType(fi.name), nil
}

// ETag is the inode number (stable for the same file of the same backup), the size
// and the modification time: contents never change while served.
func (fi fileInfo) ETag(ctx context.Context) (string, error) {
	return fmt.Sprintf(`"%x-%x-%x"`, fi.a.Ino, fi.Size(), fi.a.MTime), nil
}

// contentType is the registered type of the name's extension, else
// application/octet-stream.
func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
