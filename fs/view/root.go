package view

import (
	"fmt"
	"log"
	"slices"
	"strings"
)

// Root is the top of the tree of one or more backups. It is built in time linear in
// the number of domains plus one pass over the entries; nodes are made only when
// names are looked up.
type Root struct {
	top    *virtualDir
	c      *common
	xattrs bool
}

// New builds the tree. With exactly one backup its views are at the top (apps/,
// device/, domains/, photos/), or latest/ and history/<snapshot>/ when it has
// snapshots (Backup.History); with several, each gets a folder named by its Name (or
// Source.Name()), made unique. A backup that could not be opened shows as a folder
// holding only README.txt, which says why; the others are unaffected.
func New(opt Options, backups ...Backup) *Root {
	c := &common{opt: opt, log: opt.Logger}
	if c.log == nil {
		c.log = log.Default()
	}
	c.uid, c.gid = runningUser()

	names := make([]string, len(backups))
	for i, b := range backups {
		names[i] = sanitizeName(nameOf(b), fmt.Sprintf("backup %d", i+1))
	}
	names = uniqueNames(names, nil)
	// Trees first: the folders above the backups take their times from all of them.
	trees := make([]*tree, len(backups))
	snapTrees := make([][]*tree, len(backups))
	r := &Root{c: c, top: &virtualDir{}}
	for i, b := range backups {
		snapTrees[i] = make([]*tree, len(b.History))
		for j, s := range b.History {
			if s.Source != nil {
				snapTrees[i][j] = newTree(c, s.Source, identity(s.Source, names[i]+"/history/"+s.Name))
				snapTrees[i][j].shareBlobInodes()
				r.xattrs = r.xattrs || snapTrees[i][j].xattrs
			}
		}
		if b.Source == nil {
			continue
		}
		id := identity(b.Source, "")
		if names[i] != sanitizeName(nameOf(b), "") {
			id = identity(b.Source, names[i]) // renamed duplicate: must not share inodes
		}
		trees[i] = newTree(c, b.Source, id)
		if len(b.History) > 0 {
			trees[i].shareBlobInodes()
		}
		r.xattrs = r.xattrs || trees[i].xattrs
	}
	folderOf := func(d *virtualDir, i int) {
		if len(backups[i].History) > 0 {
			historyFolder(d, c, backups[i], names[i], trees[i], backups[i].History, snapTrees[i])
		} else {
			backupFolder(d, c, backups[i], names[i], trees[i])
		}
	}

	if len(backups) == 1 {
		folderOf(r.top, 0)
		r.top.ino = RootIno
		return r
	}
	folders := make([]*virtualDir, len(backups))
	for i := range backups {
		folders[i] = &virtualDir{}
		folderOf(folders[i], i)
	}
	order := sortedOrder(names)
	sorted := make([]string, len(names))
	for i, k := range order {
		sorted[i] = names[k]
	}
	*r.top = virtualDir{c: c, ino: RootIno, names: sorted, when: c.when,
		make: func(i int) Node { return folders[order[i]] }}
	return r
}

// Dir is the root folder.
func (r *Root) Dir() Dir { return r.top }

// HasXAttrs reports whether any shown entry has extended attributes.
func (r *Root) HasXAttrs() bool { return r.xattrs }

// Usage is the size of the backups as their manifests record it, in 4 KiB blocks, and
// their number of entries.
func (r *Root) Usage() (blocks, files uint64) { return r.c.blocks, r.c.files }

// Stop ends the size look-ups still running in the background: whoever served the
// tree has stopped.
func (r *Root) Stop() { r.c.stopped.Store(true) }

// Resolve walks a slash-separated path from the root ("" and "/" are the root);
// nil when some component does not exist or is not a folder.
func (r *Root) Resolve(p string) Node {
	var n Node = r.top
	for _, name := range strings.Split(p, "/") {
		if name == "" {
			continue
		}
		d, ok := n.(Dir)
		if !ok {
			return nil
		}
		if n = d.Lookup(name); n == nil {
			return nil
		}
	}
	return n
}

func nameOf(b Backup) string {
	if b.Name != "" || b.Source == nil {
		return b.Name
	}
	return b.Source.Name()
}

// identity is what inode numbers of a backup derive from: stable across remounts.
func identity(s Source, extra string) string {
	id := s.Name()
	if i, ok := s.(Identifier); ok {
		id = i.Identity()
	}
	if extra != "" {
		id += "\x00" + extra
	}
	return id
}

// backupFolder makes d the folder of one backup: its four views, or (t == nil) the
// note saying why it could not be opened.
func backupFolder(d *virtualDir, c *common, b Backup, name string, t *tree) {
	if t == nil {
		unopenedFolder(d, c, name, b.Err)
		return
	}
	views := map[string]func() Node{
		"apps":    t.appsDir,
		"device":  func() Node { return newDeviceRoot(t) },
		"domains": t.domainsDir,
		"photos":  t.photosDir,
	}
	names := []string{"apps", "device", "domains", "photos"}
	*d = virtualDir{c: c, ino: t.dirIno(""), names: names, when: t.when,
		make: func(i int) Node { return views[names[i]]() }}
	d.lazy = &lazyNames{links: uint32(2 + len(names) + t.candidateViews()), fill: func() {
		data := t.loadData()
		for name, n := range data.views {
			views[name] = func() Node { return n }
			names = append(names, name)
		}
		slices.Sort(names)
		d.names = names
	}}
}
