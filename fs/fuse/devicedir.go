package fuse

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/manifest"
)

// deviceDir is a folder of the device/ view: the merge of every domain folder that
// sits at this device path, plus folders that lead to domains placed deeper.
//
// On a name clash a directory wins over a file (the two are merged if both are
// directories); between files, the domain placed deepest wins (HealthDomain over
// HomeDomain under /var/mobile/Library), then the domain whose name sorts first. The
// losers stay visible under domains/.
type deviceDir struct {
	fs.Inode
	readOnly
	t    *tree
	path string     // absolute device path; "" for device/ itself
	trie *mountNode // the domain-placement folder at this path, nil below all of them
	dirs []int32    // contributing directory entries, winner first
}

var (
	_ = (fs.NodeLookuper)((*deviceDir)(nil))
	_ = (fs.NodeOpendirHandler)((*deviceDir)(nil))
	_ = (fs.NodeGetattrer)((*deviceDir)(nil))
	_ = (fs.NodeGetxattrer)((*deviceDir)(nil))
	_ = (fs.NodeListxattrer)((*deviceDir)(nil))
	_ = (fs.NodeSetattrer)((*deviceDir)(nil))
	_ = (fs.NodeMkdirer)((*deviceDir)(nil))
	_ = (fs.NodeCreater)((*deviceDir)(nil))
	_ = (fs.NodeUnlinker)((*deviceDir)(nil))
	_ = (fs.NodeRmdirer)((*deviceDir)(nil))
	_ = (fs.NodeRenamer)((*deviceDir)(nil))
)

func newDeviceRoot(t *tree) *deviceDir {
	return &deviceDir{readOnly: readOnly{t.c}, t: t, trie: t.mounts, dirs: append([]int32(nil), t.mounts.mounts...)}
}

func (d *deviceDir) viewPath() string { return "device" + d.path }

func (d *deviceDir) stable() fs.StableAttr {
	return fs.StableAttr{Mode: gofuse.S_IFDIR, Ino: d.t.dirIno(d.viewPath())}
}

func (d *deviceDir) btime() int64 {
	if len(d.dirs) == 0 {
		return d.t.when
	}
	return d.t.entryBirth(d.t.ix.Entry(d.dirs[0]))
}

// fill takes mode, owner and times from the winning domain's folder; a folder that only
// leads to domains is read-only virtual.
func (d *deviceDir) fill(out *gofuse.Attr) {
	if len(d.dirs) > 0 {
		d.t.fillEntry(d.t.ix.Entry(d.dirs[0]), gofuse.S_IFDIR, out)
	} else {
		out.Mode = gofuse.S_IFDIR | 0o555
		out.Uid, out.Gid = d.c.uid, d.c.gid
		setTimes(out, d.t.when, d.t.when, d.t.when)
	}
	out.Ino = d.stable().Ino
	setSize(out, 0)
	if len(d.dirs) == 1 && (d.trie == nil || len(d.trie.kids) == 0) {
		out.Nlink = d.t.dirLinks(d.dirs[0])
		return
	}
	// Several sources: count the merged subdirectories (only where domains overlap).
	n := uint32(2)
	m := d.merge()
	for {
		name, tk, cands, ok := m.next()
		if !ok {
			break
		}
		if len(name) <= maxNameLen && d.isDir(tk, cands) {
			n++
		}
	}
	out.Nlink = n
}

func (d *deviceDir) isDir(tk *mountNode, cands []int32) bool {
	if tk != nil {
		return true
	}
	for _, c := range cands {
		if d.t.ix.Entry(c).Kind == manifest.KindDir {
			return true
		}
	}
	return false
}

// child builds the node for one merged name: tk is the placement folder of that name
// (or nil), cands the entries of that name in each contributing folder, winner first.
func (d *deviceDir) child(name string, tk *mountNode, cands []int32) node {
	p := d.path + "/" + name
	if d.isDir(tk, cands) {
		var dirs []int32
		if tk != nil {
			dirs = append(dirs, tk.mounts...) // placed here: deeper than any contributor
		}
		for _, c := range cands {
			if d.t.ix.Entry(c).Kind == manifest.KindDir {
				dirs = append(dirs, c)
			}
		}
		return &deviceDir{readOnly: d.readOnly, t: d.t, path: p, trie: tk, dirs: dirs}
	}
	for _, w := range cands {
		switch d.t.ix.Entry(w).Kind {
		case manifest.KindFile:
			return newFileNode(d.t, w)
		case manifest.KindSymlink:
			return newLinkNode(d.t, w, "device"+p)
		}
	}
	return nil
}

func (d *deviceDir) resolve(name string) node {
	if len(name) > maxNameLen {
		return nil
	}
	tk := d.trie.child(name)
	var stack [8]int32
	cands := stack[:0]
	for _, dir := range d.dirs {
		if c, ok := d.t.ix.LookupChild(dir, name); ok {
			cands = append(cands, c)
		}
	}
	if tk == nil && len(cands) == 0 {
		return nil
	}
	return d.child(name, tk, cands)
}

func (d *deviceDir) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return lookupIn(ctx, d.EmbeddedInode(), d.resolve(name), out)
}

func (d *deviceDir) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	for _, dir := range d.dirs {
		d.t.warmDir(dir)
	}
	return openDir(d)
}

func (d *deviceDir) Getattr(ctx context.Context, f fs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	d.fill(&out.Attr)
	return 0
}

func (d *deviceDir) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if len(d.dirs) == 0 {
		return 0, errNoAttr
	}
	return getxattr(d.t.ix.Entry(d.dirs[0]), attr, dest)
}

func (d *deviceDir) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	if len(d.dirs) == 0 {
		return 0, 0
	}
	return listxattr(d.t.ix.Entry(d.dirs[0]), dest)
}

func (d *deviceDir) cursor() cursor { return &deviceCursor{m: d.merge()} }

func (d *deviceDir) merge() *deviceMerge {
	m := &deviceMerge{d: d, kids: make([][]int32, len(d.dirs)), pos: make([]int, len(d.dirs))}
	for i, dir := range d.dirs {
		m.kids[i] = d.t.ix.Children(dir)
	}
	return m
}

// deviceMerge walks the children of all contributing folders and the placement folder
// together, in name order (each list is already sorted by name).
type deviceMerge struct {
	d     *deviceDir
	kids  [][]int32
	pos   []int
	tpos  int
	cands []int32
}

func (m *deviceMerge) next() (name string, tk *mountNode, cands []int32, ok bool) {
	ix := m.d.t.ix
	var tkids []*mountNode
	if m.d.trie != nil {
		tkids = m.d.trie.kids
	}
	if m.tpos < len(tkids) {
		name, ok = tkids[m.tpos].name, true
	}
	for i, k := range m.kids {
		if m.pos[i] < len(k) {
			if n := ix.Name(k[m.pos[i]]); !ok || n < name {
				name, ok = n, true
			}
		}
	}
	if !ok {
		return "", nil, nil, false
	}
	if m.tpos < len(tkids) && tkids[m.tpos].name == name {
		tk = tkids[m.tpos]
		m.tpos++
	}
	m.cands = m.cands[:0]
	for i, k := range m.kids {
		if m.pos[i] < len(k) && ix.Name(k[m.pos[i]]) == name {
			m.cands = append(m.cands, k[m.pos[i]])
			m.pos[i]++
		}
	}
	return name, tk, m.cands, true
}

type deviceCursor struct {
	m *deviceMerge
}

func (c *deviceCursor) next() (string, node) {
	for {
		name, tk, cands, ok := c.m.next()
		if !ok {
			return "", nil
		}
		if len(name) > maxNameLen {
			continue
		}
		if n := c.m.d.child(name, tk, cands); n != nil {
			return name, n
		}
	}
}
