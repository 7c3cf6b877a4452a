package view

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
)

// inoGen numbers generated files (messages.txt, *.vcf, calls.csv) by view path.
const inoGen = 'g'

// genFile is a file rendered from a backup's database: built on its first stat or
// open (its exact size is needed at stat time), then kept for the life of the tree.
// The node itself must be kept by its folder so the build happens once.
type genFile struct {
	c     *common
	ino   uint64
	when  int64
	path  string // view path, for errors
	build func(io.Writer) error

	once sync.Once
	data []byte
	err  error
}

var _ File = (*genFile)(nil)

func newGenFile(t *tree, viewPath string, when int64, build func(io.Writer) error) *genFile {
	return &genFile{c: t.c, ino: hashIno(t.id, inoGen, viewPath, ""), when: when, path: viewPath, build: build}
}

func (g *genFile) Ino() uint64               { return g.ino }
func (g *genFile) Kind() Kind                { return KindFile }
func (g *genFile) XAttrs() map[string][]byte { return nil }

func (g *genFile) load() {
	g.once.Do(func() {
		var buf bytes.Buffer
		if err := g.build(&buf); err != nil {
			g.err = fmt.Errorf("%s: %w", g.path, err)
			g.c.log.Printf("iosbackup: cannot build %v", g.err)
			return
		}
		g.data = buf.Bytes()
		g.build = nil // what it rendered from (a chat's decoded messages) can go
	})
}

func (g *genFile) Attr() Attr {
	g.load()
	return Attr{
		Ino: g.ino, Kind: KindFile, Perm: 0o444, Nlink: 1, Size: int64(len(g.data)),
		UID: g.c.uid, GID: g.c.gid, MTime: g.when, CTime: g.when, Birth: g.when,
	}
}

func (g *genFile) Open() (Reader, error) {
	g.load()
	if g.err != nil {
		return nil, g.err
	}
	return noteReader{bytes.NewReader(g.data)}, nil
}

// memDir is a folder whose children are all known when it is made (a view built from
// a database's rows).
type memDir struct {
	c     *common
	ino   uint64
	when  int64
	names []string // sorted
	kids  []Node
}

var _ Dir = (*memDir)(nil)

func (d *memDir) Ino() uint64               { return d.ino }
func (d *memDir) Kind() Kind                { return KindDir }
func (d *memDir) XAttrs() map[string][]byte { return nil }
func (d *memDir) Prefetch()                 {}

func (d *memDir) Attr() Attr {
	n := uint32(2)
	for _, k := range d.kids {
		if k.Kind() == KindDir {
			n++
		}
	}
	return Attr{Ino: d.ino, Kind: KindDir, Perm: 0o555, Nlink: n, UID: d.c.uid, GID: d.c.gid,
		MTime: d.when, CTime: d.when, Birth: d.when}
}

func (d *memDir) Lookup(name string) Node {
	if i, ok := searchStrings(d.names, name); ok {
		return d.kids[i]
	}
	return nil
}

func (d *memDir) List() Cursor { return &memCursor{d: d} }

type memCursor struct {
	d *memDir
	i int
}

func (c *memCursor) Next() (string, Node) {
	if c.i >= len(c.d.names) {
		return "", nil
	}
	c.i++
	return c.d.names[c.i-1], c.d.kids[c.i-1]
}

// memBuilder collects a memDir's children in any order.
type memBuilder map[string]Node

// dir makes the folder, its children sorted by name.
func (b memBuilder) dir(t *tree, viewPath string, when int64) *memDir {
	d := &memDir{c: t.c, ino: t.dirIno(viewPath), when: when}
	d.names, d.kids = b.sorted()
	return d
}

func (b memBuilder) sorted() ([]string, []Node) {
	names := make([]string, 0, len(b))
	for name := range b {
		names = append(names, name)
	}
	slices.Sort(names)
	kids := make([]Node, len(names))
	for i, name := range names {
		kids[i] = b[name]
	}
	return names, kids
}
