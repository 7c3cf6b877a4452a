package backupfs

import (
	"fmt"
	"log"

	"github.com/hanwen/go-fuse/v2/fs"
)

// Root is the root directory of a mount. It is built in time linear in the number of
// domains plus one pass over the entries; inodes are made only when the kernel looks
// names up.
type Root struct {
	virtualDir
	xattrs bool
	common *mountCommon
}

var _ = (fs.InodeEmbedder)((*Root)(nil))

// HasXAttrs reports whether any shown entry has extended attributes. When none does,
// Mount turns xattr requests off entirely (the kernel then stops asking).
func (r *Root) HasXAttrs() bool { return r.xattrs }

// NewRoot builds the tree of a mount. With exactly one backup its views are at the top
// (apps/, device/, domains/, photos/); with several, each gets a folder named by its
// Name (or Source.Name()), made unique. A backup that could not be opened shows as a
// folder holding only README.txt, which says why; the others are unaffected.
func NewRoot(opt Options, backups ...Backup) *Root {
	c := &mountCommon{opt: opt, log: opt.Logger}
	if c.log == nil {
		c.log = log.Default()
	}
	c.uid, c.gid = mountingUser()

	names := make([]string, len(backups))
	for i, b := range backups {
		names[i] = sanitizeName(nameOf(b), fmt.Sprintf("backup %d", i+1))
	}
	names = uniqueNames(names, nil)
	// Trees first: the folders above the backups take their times from all of them.
	trees := make([]*tree, len(backups))
	snapTrees := make([][]*tree, len(backups))
	r := &Root{common: c}
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
			initBackupFolder(d, c, backups[i], names[i], trees[i])
		}
	}

	if len(backups) == 1 {
		folderOf(&r.virtualDir, 0)
		r.ino = 1 // the mount root is always inode 1
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
	r.readOnly = readOnly{c}
	r.ino = 1
	r.names = sorted
	r.make = func(i int) node { return folders[order[i]] }
	r.when = c.when
	return r
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

// initBackupFolder makes d the folder of one backup: its four views, or (t == nil) the
// note saying why it could not be opened.
func initBackupFolder(d *virtualDir, c *mountCommon, b Backup, name string, t *tree) {
	d.readOnly = readOnly{c}
	if t == nil {
		err := b.Err
		if err == nil {
			err = fmt.Errorf("no source given")
		}
		text := fmt.Sprintf("iosbackup could not open the backup %q, so none of its files are shown here.\n\nReason: %v\n\n"+
			"Mount it again with the right password or key to see its contents.\n", name, err)
		note := &noteFile{readOnly: readOnly{c}, ino: hashIno(name, inoFile, "README.txt", ""), text: []byte(text), when: c.when}
		d.ino = hashIno(name, inoDir, "unopened", "")
		d.names = []string{"README.txt"}
		d.make = func(int) node { return note }
		d.files = 1
		d.when = c.when
		return
	}
	views := map[string]func() node{
		"apps":    func() node { return t.appsDir() },
		"device":  func() node { return newDeviceRoot(t) },
		"domains": func() node { return t.domainsDir() },
		"photos":  func() node { return t.photosDir() },
	}
	names := []string{"apps", "device", "domains", "photos"}
	d.ino = t.dirIno("")
	d.names = names
	d.make = func(i int) node { return views[names[i]]() }
	d.when = t.when
}

func (t *tree) domainsDir() node {
	return &virtualDir{
		readOnly: readOnly{t.c},
		ino:      t.dirIno("domains"),
		names:    t.domains,
		make: func(i int) node {
			d := t.domains[i]
			root, _ := t.ix.DomainRoot(d)
			return newEntryDir(newView(t, "domains/"+d, root), root)
		},
		when: t.when,
	}
}

func (t *tree) photosDir() node {
	if t.photos < 0 {
		return &virtualDir{readOnly: readOnly{t.c}, ino: t.dirIno("photos"), when: t.when}
	}
	return newEntryDir(newView(t, "photos", t.photos), t.photos)
}

func (t *tree) appsDir() node {
	names := make([]string, len(t.apps))
	for i, a := range t.apps {
		names[i] = a.name
	}
	return &virtualDir{
		readOnly: readOnly{t.c},
		ino:      t.dirIno("apps"),
		names:    names,
		make:     func(i int) node { return t.appDir(t.apps[i]) },
		when:     t.when,
	}
}

func (t *tree) appDir(a *appFolder) node {
	base := "apps/" + a.name
	var names []string
	var makers []func() node
	if a.data >= 0 {
		names = append(names, "data")
		makers = append(makers, func() node { return newEntryDir(newView(t, base+"/data", a.data), a.data) })
	}
	if len(a.groups) > 0 {
		names = append(names, "groups")
		makers = append(makers, func() node { return t.containersDir(base+"/groups", a.groups) })
	}
	if len(a.plugins) > 0 {
		names = append(names, "plugins")
		makers = append(makers, func() node { return t.containersDir(base+"/plugins", a.plugins) })
	}
	return &virtualDir{
		readOnly: readOnly{t.c},
		ino:      t.dirIno(base),
		names:    names,
		make:     func(i int) node { return makers[i]() },
		when:     t.when,
	}
}

func (t *tree) containersDir(p string, refs []containerRef) node {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.id
	}
	return &virtualDir{
		readOnly: readOnly{t.c},
		ino:      t.dirIno(p),
		names:    names,
		make: func(i int) node {
			return newEntryDir(newView(t, p+"/"+refs[i].id, refs[i].root), refs[i].root)
		},
		when: t.when,
	}
}

func sortedOrder(names []string) []int {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // insertion sort: a handful of backups
		for j := i; j > 0 && names[order[j]] < names[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}
