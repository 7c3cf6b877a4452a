package view

// virtualDir is a folder with a fixed list of children that exists only in the tree:
// the root, a backup's folder, domains/, apps/, an app's folder, groups/, plugins/.
type virtualDir struct {
	c     *common
	ino   uint64
	names []string // sorted
	make  func(i int) Node
	files int   // how many children are files (nlink counts folders)
	when  int64 // mtime, ctime and birth
	// lazy, when set, fills names and make on first use (a backup's folder, whose
	// data views need its databases read).
	lazy *lazyNames
}

var _ Dir = (*virtualDir)(nil)

func (d *virtualDir) Ino() uint64               { return d.ino }
func (d *virtualDir) Kind() Kind                { return KindDir }
func (d *virtualDir) XAttrs() map[string][]byte { return nil }
func (d *virtualDir) Prefetch()                 {}

// Attr does not read the databases of a lazy folder: stat of the mount's root must
// stay cheap. Its link count is then an upper bound.
func (d *virtualDir) Attr() Attr {
	links := uint32(2 + len(d.names) - d.files)
	if d.lazy != nil {
		links = d.lazy.links
	}
	return Attr{
		Ino: d.ino, Kind: KindDir, Perm: 0o555,
		Nlink: links,
		UID:   d.c.uid, GID: d.c.gid,
		MTime: d.when, CTime: d.when, Birth: d.when,
	}
}

func (d *virtualDir) Lookup(name string) Node {
	d.lazy.do()
	i, ok := searchStrings(d.names, name)
	if !ok {
		return nil
	}
	return d.make(i)
}

func (d *virtualDir) List() Cursor {
	d.lazy.do()
	return &sliceCursor{d: d}
}

type sliceCursor struct {
	d *virtualDir
	i int
}

func (c *sliceCursor) Next() (string, Node) {
	if c.i >= len(c.d.names) {
		return "", nil
	}
	i := c.i
	c.i++
	return c.d.names[i], c.d.make(i)
}
