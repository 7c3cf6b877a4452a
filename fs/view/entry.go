package view

import (
	"io"

	"iosbackup/manifest"
)

// subtree is one place where a subtree of the index is shown: domains/<D>,
// apps/<A>/data, apps/<A>/groups/<G>, photos.
type subtree struct {
	t     *tree
	path  string // view path of root, relative to the backup's folder
	root  int32  // the entry shown at path
	strip int    // bytes of an entry's Path to drop to get its path below root
}

func newSubtree(t *tree, viewPath string, root int32) *subtree {
	strip := 0
	if p := t.ix.Entry(root).Path; p != "" {
		strip = len(p) + 1
	}
	return &subtree{t: t, path: viewPath, root: root, strip: strip}
}

// pathOf is the view path of an entry below the subtree's root.
func (v *subtree) pathOf(idx int32) string {
	if idx == v.root {
		return v.path
	}
	return v.path + "/" + v.t.ix.Entry(idx).Path[v.strip:]
}

// child makes the node for entry c of this subtree.
func (v *subtree) child(c int32) Node {
	e := v.t.ix.Entry(c)
	switch e.Kind {
	case manifest.KindDir:
		return &entryDir{v: v, idx: c}
	case manifest.KindFile:
		return &fileNode{t: v.t, idx: c}
	case manifest.KindSymlink:
		return &linkNode{t: v.t, idx: c, at: v.pathOf(c)}
	}
	return nil
}

// ---- entryDir: a directory of the backup in domains/, apps/ or photos/ ----

type entryDir struct {
	v   *subtree
	idx int32
}

var _ Dir = (*entryDir)(nil)

func (d *entryDir) Ino() uint64 { return d.v.t.dirIno(d.v.pathOf(d.idx)) }
func (d *entryDir) Kind() Kind  { return KindDir }

func (d *entryDir) Attr() Attr {
	t := d.v.t
	a := t.entryAttr(t.ix.Entry(d.idx), KindDir)
	a.Ino = d.Ino()
	a.Nlink = t.dirLinks(d.idx)
	return a
}

func (d *entryDir) XAttrs() map[string][]byte { return d.v.t.ix.Entry(d.idx).XAttrs() }

func (d *entryDir) Lookup(name string) Node {
	c, ok := d.v.t.ix.LookupChild(d.idx, name)
	if !ok {
		return nil
	}
	return d.v.child(c)
}

func (d *entryDir) List() Cursor {
	return &entryCursor{v: d.v, kids: d.v.t.ix.Children(d.idx)}
}

func (d *entryDir) Prefetch() { d.v.t.warmDir(d.idx) }

type entryCursor struct {
	v    *subtree
	kids []int32
	i    int
}

func (c *entryCursor) Next() (string, Node) {
	for c.i < len(c.kids) {
		k := c.kids[c.i]
		c.i++
		name := c.v.t.ix.Name(k)
		if len(name) > MaxNameLen {
			continue // cannot be looked up: listing it would only produce errors
		}
		if n := c.v.child(k); n != nil {
			return name, n
		}
	}
	return "", nil
}

// ---- fileNode ----

// fileNode is a regular file of the backup. It has one inode number in all views.
type fileNode struct {
	t   *tree
	idx int32
}

var _ File = (*fileNode)(nil)

func (f *fileNode) Ino() uint64 { return f.t.fileInoAt(f.idx) }
func (f *fileNode) Kind() Kind  { return KindFile }

func (f *fileNode) Attr() Attr {
	e := f.t.ix.Entry(f.idx)
	a := f.t.entryAttr(e, KindFile)
	a.Ino = f.t.fileInoAt(f.idx)
	a.Nlink = f.t.views(f.idx)
	if f.t.blobs != nil && a.Nlink < 2 {
		// Shown in more than one snapshot: du counts an inode once only when its
		// link count says it has others.
		a.Nlink = 2
	}
	a.Size = f.t.size(f.idx)
	if m := f.t.created.Load(); m != nil {
		if when, ok := (*m)[f.idx]; ok {
			a.MTime = when
		}
	}
	return a
}

func (f *fileNode) XAttrs() map[string][]byte { return f.t.ix.Entry(f.idx).XAttrs() }

// SizeKnown says whether Attr can answer without looking the size up (see SizeKnower).
func (f *fileNode) SizeKnown() bool { return f.t.sizes[f.idx].Load() != 0 }

// Open gives each caller its own reader, so concurrent readers never share a lock.
func (f *fileNode) Open() (Reader, error) {
	f.t.size(f.idx) // so that a size failure is known before the first read
	if err, ok := f.t.sizeErr.Load(f.idx); ok {
		f.t.logOnce(f.idx, err.(error))
		return nil, err.(error)
	}
	r, err := f.t.src.OpenFile(f.t.ix.Entry(f.idx))
	if err != nil {
		f.t.logOnce(f.idx, err)
		return nil, err
	}
	return &loggedReader{Reader: r, t: f.t, idx: f.idx}, nil
}

// loggedReader logs the first read failure of its file.
type loggedReader struct {
	Reader
	t   *tree
	idx int32
}

func (r *loggedReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.Reader.ReadAt(p, off)
	if err != nil && err != io.EOF {
		r.t.logOnce(r.idx, err)
	}
	return n, err
}

func (r *loggedReader) Close() error {
	err := r.Reader.Close()
	if err != nil {
		r.t.logOnce(r.idx, err)
	}
	return err
}

// ---- linkNode ----

// linkNode is a symlink of the backup as seen at one view path.
type linkNode struct {
	t   *tree
	idx int32
	at  string // view path of the link, relative to the backup's folder
}

var _ Link = (*linkNode)(nil)

// A relativized link reads differently in each view, so it needs one inode per view;
// a raw link is the same everywhere and shares one like a file.
func (l *linkNode) Ino() uint64 {
	if l.t.c.opt.RawSymlinks {
		return l.t.fileIno(l.t.ix.Entry(l.idx))
	}
	return hashIno(l.t.id, inoLink, l.at, "")
}

func (l *linkNode) Kind() Kind { return KindSymlink }

func (l *linkNode) Attr() Attr {
	e := l.t.ix.Entry(l.idx)
	a := l.t.entryAttr(e, KindSymlink)
	a.Ino = l.Ino()
	a.Nlink = 1
	if l.t.c.opt.RawSymlinks {
		a.Nlink = l.t.views(l.idx)
	}
	a.Size = int64(len(l.Target()))
	return a
}

func (l *linkNode) XAttrs() map[string][]byte { return l.t.ix.Entry(l.idx).XAttrs() }
func (l *linkNode) Target() string            { return l.t.linkTarget(l.t.ix.Entry(l.idx), l.at) }

// ---- attributes of entries ----

func (t *tree) entryAttr(e *manifest.Entry, k Kind) Attr {
	a := Attr{Kind: k, Perm: e.Perm(), UID: t.c.uid, GID: t.c.gid}
	if t.c.opt.DeviceOwners {
		a.UID, a.GID = e.UID, e.GID
	}
	if e.Synthetic {
		// A folder the manifest implies but does not list has no recorded times.
		a.MTime, a.CTime, a.Birth = t.when, t.when, t.when
		return a
	}
	a.MTime, a.CTime, a.Birth = e.MTime, e.CTime, e.Birth
	return a
}
