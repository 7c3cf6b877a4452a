package view

import (
	"sort"
	"strings"

	"iosbackup/manifest"
)

// device/var/mobile/...: real device paths, the domains sharing a folder merged.

// domainDevicePath returns the absolute device folder of a domain (manifest.DevicePath:
// container folders are named by bundle or group ID), or false for a domain of unknown
// placement or one whose folder could not be shown.
func domainDevicePath(domain string) (string, bool) {
	p, ok := manifest.DevicePath(domain)
	if !ok || !strings.HasPrefix(p, "/") {
		return "", false
	}
	for _, c := range strings.Split(p[1:], "/") {
		if !validName(c) {
			return "", false
		}
	}
	return p, true
}

// mountNode is one folder of the device tree that is, or leads to, the folder of a
// domain. The device/ view walks it to find which domains contribute to a path.
type mountNode struct {
	name   string
	kids   []*mountNode // sorted by name
	mounts []int32      // domain roots placed exactly here, sorted by domain name
}

func (m *mountNode) child(name string) *mountNode {
	if m == nil {
		return nil
	}
	k := sort.Search(len(m.kids), func(i int) bool { return m.kids[i].name >= name })
	if k < len(m.kids) && m.kids[k].name == name {
		return m.kids[k]
	}
	return nil
}

// add places a domain root at an absolute device path. Domains arrive in name order, so
// mounts stay sorted by domain name.
func (m *mountNode) add(devPath string, root int32) {
	n := m
	for _, c := range strings.Split(strings.TrimPrefix(devPath, "/"), "/") {
		next := n.child(c)
		if next == nil {
			next = &mountNode{name: c}
			k := sort.Search(len(n.kids), func(i int) bool { return n.kids[i].name >= c })
			n.kids = append(n.kids, nil)
			copy(n.kids[k+1:], n.kids[k:])
			n.kids[k] = next
		}
		n = next
	}
	n.mounts = append(n.mounts, root)
}

// deviceDir is a folder of the device/ view: the merge of every domain folder that
// sits at this device path, plus folders that lead to domains placed deeper.
//
// On a name clash a directory wins over a file (the two are merged if both are
// directories); between files, the domain placed deepest wins (HealthDomain over
// HomeDomain under /var/mobile/Library), then the domain whose name sorts first. The
// losers stay visible under domains/.
type deviceDir struct {
	t    *tree
	path string     // absolute device path; "" for device/ itself
	trie *mountNode // the domain-placement folder at this path, nil below all of them
	dirs []int32    // contributing directory entries, winner first
}

var _ Dir = (*deviceDir)(nil)

func newDeviceRoot(t *tree) *deviceDir {
	return &deviceDir{t: t, trie: t.mounts, dirs: append([]int32(nil), t.mounts.mounts...)}
}

func (d *deviceDir) viewPath() string { return "device" + d.path }

func (d *deviceDir) Ino() uint64 { return d.t.dirIno(d.viewPath()) }
func (d *deviceDir) Kind() Kind  { return KindDir }

// fill takes mode, owner and times from the winning domain's folder; a folder that only
// leads to domains is read-only virtual.
func (d *deviceDir) Attr() Attr {
	var out Attr
	if len(d.dirs) > 0 {
		out = d.t.entryAttr(d.t.ix.Entry(d.dirs[0]), KindDir)
	} else {
		w := d.t.when
		out = Attr{Kind: KindDir, Perm: 0o555, UID: d.t.c.uid, GID: d.t.c.gid, MTime: w, CTime: w, Birth: w}
	}
	out.Ino = d.Ino()
	if len(d.dirs) == 1 && (d.trie == nil || len(d.trie.kids) == 0) {
		out.Nlink = d.t.dirLinks(d.dirs[0])
		return out
	}
	// Several sources: count the merged subdirectories (only where domains overlap).
	n := uint32(2)
	m := d.merge()
	for {
		name, tk, cands, ok := m.next()
		if !ok {
			break
		}
		if len(name) <= MaxNameLen && d.isDir(tk, cands) {
			n++
		}
	}
	out.Nlink = n
	return out
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
func (d *deviceDir) child(name string, tk *mountNode, cands []int32) Node {
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
		return &deviceDir{t: d.t, path: p, trie: tk, dirs: dirs}
	}
	for _, w := range cands {
		switch d.t.ix.Entry(w).Kind {
		case manifest.KindFile:
			return &fileNode{t: d.t, idx: w}
		case manifest.KindSymlink:
			return &linkNode{t: d.t, idx: w, at: "device" + p}
		}
	}
	return nil
}

func (d *deviceDir) Lookup(name string) Node {
	if len(name) > MaxNameLen {
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

// Prefetch warms every contributing folder.
func (d *deviceDir) Prefetch() {
	for _, dir := range d.dirs {
		d.t.warmDir(dir)
	}
}

// XAttrs are the winning folder's.
func (d *deviceDir) XAttrs() map[string][]byte {
	if len(d.dirs) == 0 {
		return nil
	}
	return d.t.ix.Entry(d.dirs[0]).XAttrs()
}

func (d *deviceDir) List() Cursor { return &deviceCursor{m: d.merge()} }

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

func (c *deviceCursor) Next() (string, Node) {
	for {
		name, tk, cands, ok := c.m.next()
		if !ok {
			return "", nil
		}
		if len(name) > MaxNameLen {
			continue
		}
		if n := c.m.d.child(name, tk, cands); n != nil {
			return name, n
		}
	}
}

// deviceWinner reports whether entry idx is what device/ shows at its device path. It
// must agree with deviceDir.child: a directory (real or leading to a domain folder)
// beats files; among files the deepest domain folder wins, then the domain name.
func (t *tree) deviceWinner(idx int32) bool {
	e := t.ix.Entry(idx)
	base, ok := t.mountPath[e.Domain]
	if !ok {
		return false
	}
	dev := base + "/" + e.Path
	type placed struct {
		n   *mountNode
		off int // length of the mount's device path in dev
	}
	var along [8]placed
	chain := along[:0]
	node := t.mounts
	off := 0
	rest := dev[1:]
	for node != nil {
		if len(node.mounts) > 0 {
			chain = append(chain, placed{node, off})
		}
		if rest == "" {
			break
		}
		comp, tail, more := strings.Cut(rest, "/")
		node = node.child(comp)
		off += 1 + len(comp)
		rest = tail
		if !more {
			rest = ""
			if node != nil {
				return false // a folder leading to a domain: a directory wins
			}
			break
		}
	}
	winner := int32(-1)
	for k := len(chain) - 1; k >= 0; k-- {
		p := chain[k]
		if p.off >= len(dev) {
			continue
		}
		rel := dev[p.off+1:]
		for _, root := range p.n.mounts {
			c, ok := t.ix.Lookup(t.ix.Entry(root).Domain, rel)
			if !ok {
				continue
			}
			switch t.ix.Entry(c).Kind {
			case manifest.KindDir:
				return false
			case manifest.KindFile, manifest.KindSymlink:
				if winner < 0 {
					winner = c
				}
			}
		}
	}
	return winner == idx
}
