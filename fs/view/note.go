package view

import (
	"bytes"
	"fmt"
)

// noteFile is the explanation inside the folder of a backup that did not open.
type noteFile struct {
	c    *common
	ino  uint64
	text []byte
	when int64
}

var _ File = (*noteFile)(nil)

func (n *noteFile) Ino() uint64               { return n.ino }
func (n *noteFile) Kind() Kind                { return KindFile }
func (n *noteFile) XAttrs() map[string][]byte { return nil }

func (n *noteFile) Attr() Attr {
	return Attr{
		Ino: n.ino, Kind: KindFile, Perm: 0o444, Nlink: 1, Size: int64(len(n.text)),
		UID: n.c.uid, GID: n.c.gid, MTime: n.when, CTime: n.when, Birth: n.when,
	}
}

func (n *noteFile) Open() (Reader, error) { return noteReader{bytes.NewReader(n.text)}, nil }

type noteReader struct{ *bytes.Reader }

func (noteReader) Close() error { return nil }

// unopenedFolder makes d the folder of a backup that could not be opened: README.txt
// saying why.
func unopenedFolder(d *virtualDir, c *common, name string, err error) {
	if err == nil {
		err = fmt.Errorf("no source given")
	}
	text := fmt.Sprintf("iosbackup could not open the backup %q, so none of its files are shown here.\n\nReason: %v\n\n"+
		"Mount it again with the right password or key to see its contents.\n", name, err)
	note := &noteFile{c: c, ino: hashIno(name, inoFile, "README.txt", ""), text: []byte(text), when: c.when}
	d.c = c
	d.ino = hashIno(name, inoDir, "unopened", "")
	d.names = []string{"README.txt"}
	d.make = func(int) Node { return note }
	d.files = 1
	d.when = c.when
}
