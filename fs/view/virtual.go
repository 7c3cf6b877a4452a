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
}

var _ Dir = (*virtualDir)(nil)

func (d *virtualDir) Ino() uint64               { return d.ino }
func (d *virtualDir) Kind() Kind                { return KindDir }
func (d *virtualDir) XAttrs() map[string][]byte { return nil }
func (d *virtualDir) Prefetch()                 {}

func (d *virtualDir) Attr() Attr {
	return Attr{
		Ino: d.ino, Kind: KindDir, Perm: 0o555,
		Nlink: uint32(2 + len(d.names) - d.files),
		UID:   d.c.uid, GID: d.c.gid,
		MTime: d.when, CTime: d.when, Birth: d.when,
	}
}

func (d *virtualDir) Lookup(name string) Node {
	i, ok := searchStrings(d.names, name)
	if !ok {
		return nil
	}
	return d.make(i)
}

func (d *virtualDir) List() Cursor { return &sliceCursor{d: d} }

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
