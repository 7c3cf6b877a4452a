package backupfs

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"iosbackup/manifest"
)

// mountCommon is what every node of one mount shares.
type mountCommon struct {
	opt      Options
	log      *log.Logger
	uid, gid uint32 // the mounting user: owner of everything unless DeviceOwners
	when     int64  // times of the folders above the backups
	blocks   uint64 // statfs: 4 KiB blocks the manifests claim
	files    uint64 // statfs: entries

	// open holds the file handles the kernel has not released. The kernel sends
	// RELEASE asynchronously after close(2); those still queued when the filesystem is
	// unmounted never arrive, so Mount closes what is left once the server stops.
	open sync.Map // *fileHandle -> struct{}

	// stopped is set when the server has stopped: background size look-ups end early.
	stopped atomic.Bool
}

// closeHandles closes every handle still open: the server has stopped.
func (c *mountCommon) closeHandles() {
	c.open.Range(func(k, _ any) bool {
		h := k.(*fileHandle)
		c.open.Delete(h)
		h.r.Close()
		return true
	})
}

// tree is one opened backup and the precomputed shape of its views. Everything here is
// built once, in time linear in the number of domains (plus one pass over the entries):
// no go-fuse inode exists until the kernel looks a name up.
type tree struct {
	c   *mountCommon
	src Source
	ix  *manifest.Index
	id  string // identity hashed into inode numbers

	when    int64    // times shown on virtual and synthesized folders: the newest mtime
	xattrs  bool     // some entry has extended attributes
	domains []string // domains listed under domains/ (sorted)

	mountPath map[string]string // domain -> absolute device folder, for placed domains
	mounts    *mountNode        // the device folders that hold domains
	apps      []*appFolder      // sorted by folder name
	inApps    map[string]bool   // domains shown somewhere under apps/
	photos    int32             // CameraRollDomain Media/DCIM, or -1

	// Per-entry caches, filled on first use. sizes holds FileSize+1 (0 unknown, -1 the
	// size could not be read); subdirs holds the number of directory children + 1.
	sizes   []atomic.Int64
	subdirs []atomic.Int32
	sizeErr sync.Map // int32 -> error: why FileSize failed
	logged  sync.Map // int32 -> struct{}: entries whose read failure was logged

	// sizeSlots bounds the FileSize calls that warmSizes runs at once, over every
	// listing of this backup in progress; warming maps a folder whose files' sizes are
	// being looked up to a channel closed when they are known.
	sizeSlots chan struct{}
	warming   sync.Map // int32 -> chan struct{}

	// blobs, when set, numbers files by the stored blob they read (history.go).
	blobs *blobInos
}

// photosPath is where the Camera Roll keeps DCIM folders inside CameraRollDomain.
const photosPath = "Media/DCIM"

// appFolder is one folder of the apps/ view.
type appFolder struct {
	name    string // folder name, unique in apps/
	bundle  string
	data    int32 // root of AppDomain-<bundle>, -1 for a group/plugin without an app
	groups  []containerRef
	plugins []containerRef
}

type containerRef struct {
	id   string // group or plugin ID, the folder name
	root int32
}

func newTree(c *mountCommon, src Source, id string) *tree {
	ix := src.Index()
	n := ix.Len()
	t := &tree{
		c:         c,
		src:       src,
		ix:        ix,
		id:        id,
		photos:    -1,
		mountPath: map[string]string{},
		mounts:    &mountNode{},
		inApps:    map[string]bool{},
		sizes:     make([]atomic.Int64, n),
		subdirs:   make([]atomic.Int32, n),
		sizeSlots: make(chan struct{}, sizeWorkers),
	}
	var bytes uint64
	for i := 0; i < n; i++ {
		e := ix.Entry(int32(i))
		if e.MTime > t.when {
			t.when = e.MTime
		}
		if len(e.XAttrs()) > 0 {
			t.xattrs = true
		}
		if e.Kind == manifest.KindFile && e.Size > 0 {
			bytes += uint64(e.Size)
		}
	}
	c.blocks += (bytes + 4095) / 4096
	c.files += uint64(n)
	c.when = max(c.when, t.when)

	domains := ix.Domains()
	for _, d := range domains {
		root, _ := ix.DomainRoot(d)
		if validName(d) {
			t.domains = append(t.domains, d)
		}
		if p, ok := domainDevicePath(d); ok {
			t.mountPath[d] = p
			t.mounts.add(p, root)
		}
	}
	t.buildApps(domains)
	if i, ok := ix.Lookup("CameraRollDomain", photosPath); ok && ix.Entry(i).Kind == manifest.KindDir {
		t.photos = i
	}
	return t
}

// buildApps groups AppDomain-*, AppDomainGroup-* and AppDomainPlugin-* domains into one
// folder per app. A group or plugin belongs to the app whose bundle ID is the longest
// dot-separated prefix of its own ID ("group." stripped from group IDs); one that no app
// claims gets a folder of its own, named by its ID.
func (t *tree) buildApps(domains []string) {
	byBundle := map[string]*appFolder{}
	var bundles []string
	for _, d := range domains {
		if id, ok := strings.CutPrefix(d, "AppDomain-"); ok && validName(id) {
			root, _ := t.ix.DomainRoot(d)
			byBundle[id] = &appFolder{bundle: id, data: root}
			bundles = append(bundles, id)
			t.inApps[d] = true
		}
	}
	orphans := map[string]*appFolder{}
	for _, d := range domains {
		id, group := strings.CutPrefix(d, "AppDomainGroup-")
		if !group {
			var ok bool
			if id, ok = strings.CutPrefix(d, "AppDomainPlugin-"); !ok {
				continue
			}
		}
		if !validName(id) {
			continue
		}
		key := id
		if group {
			key = strings.TrimPrefix(id, "group.")
		}
		owner := ""
		for _, b := range bundles {
			if (key == b || strings.HasPrefix(key, b+".")) && len(b) > len(owner) {
				owner = b
			}
		}
		app := byBundle[owner]
		if owner == "" {
			if app = orphans[id]; app == nil {
				app = &appFolder{bundle: id, data: -1}
				orphans[id] = app
			}
		}
		root, _ := t.ix.DomainRoot(d)
		ref := containerRef{id: id, root: root}
		if group {
			app.groups = append(app.groups, ref)
		} else {
			app.plugins = append(app.plugins, ref)
		}
		t.inApps[d] = true
	}

	var apps []*appFolder
	for _, b := range bundles {
		a := byBundle[b]
		a.name = sanitizeName(t.src.AppName(b), b)
		apps = append(apps, a)
	}
	for _, a := range orphans {
		a.name = a.bundle
		apps = append(apps, a)
	}
	names := make([]string, len(apps))
	alts := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.name
		alts[i] = a.name + " (" + a.bundle + ")"
	}
	names = uniqueNames(names, alts)
	for i, a := range apps {
		a.name = names[i]
		// Domains were visited in name order, so groups and plugins are sorted by ID.
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].name < apps[j].name })
	t.apps = apps
}

// sanitizeName makes a display name usable as one folder name, else returns fallback.
func sanitizeName(s, fallback string) string {
	s = strings.ReplaceAll(s, "/", "_")
	s = strings.ReplaceAll(s, "\x00", "")
	if !validName(s) {
		return fallback
	}
	return s
}

// uniqueNames returns names with every name that occurs more than once replaced by its
// alternative (when given and valid), then numbered until all are distinct.
func uniqueNames(names, alts []string) []string {
	count := map[string]int{}
	for _, n := range names {
		count[n]++
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if count[n] > 1 && alts != nil && validName(alts[i]) {
			out[i] = alts[i]
		}
	}
	seen := map[string]bool{}
	for i, n := range out {
		cand := n
		for k := 2; seen[cand]; k++ {
			cand = fmt.Sprintf("%s (%d)", n, k)
		}
		seen[cand] = true
		out[i] = cand
	}
	return out
}

// Inode numbers are a hash of (backup identity, kind, name): the same in every mount of
// the same backup, so tools that remember inodes (rsync, restic, find -inum) see stable
// files. A file's name is (domain, path), whatever view shows it, so all its views share
// one inode; a folder's name is its view path, because a directory can have only one
// parent in the kernel's dentry cache.
const (
	inoFile = 'f' // files, and symlinks with RawSymlinks
	inoDir  = 'd' // directories: view path
	inoLink = 'l' // relativized symlinks: view path (the target depends on it)
)

func hashIno(id string, kind byte, a, b string) uint64 {
	var buf [256]byte
	s := append(buf[:0], id...)
	s = append(s, 0, kind, 0)
	s = append(s, a...)
	s = append(s, 0)
	s = append(s, b...)
	sum := sha256.Sum256(s)
	v := binary.LittleEndian.Uint64(sum[:8])
	// 0 means "pick one" to go-fuse, 1 is the mount root, ^0 is reserved by go-fuse.
	if v <= 1 || v == ^uint64(0) {
		v = 2
	}
	return v
}

func (t *tree) fileIno(e *manifest.Entry) uint64 { return hashIno(t.id, inoFile, e.Domain, e.Path) }

// fileInoAt is fileIno for the entry at idx, numbered by its blob when the tree shares
// inodes across snapshots.
func (t *tree) fileInoAt(idx int32) uint64 {
	e := t.ix.Entry(idx)
	if t.blobs != nil && e.Kind == manifest.KindFile {
		if ino, ok := t.blobs.ino(e, idx); ok {
			return ino
		}
	}
	return t.fileIno(e)
}
func (t *tree) dirIno(viewPath string) uint64 { return hashIno(t.id, inoDir, viewPath, "") }

// view is one place where a subtree of the index is shown: domains/<D>, apps/<A>/data,
// apps/<A>/groups/<G>, photos.
type view struct {
	t     *tree
	path  string // view path of root, relative to the backup's folder
	root  int32  // the entry shown at path
	strip int    // bytes of an entry's Path to drop to get its path below root
}

func newView(t *tree, viewPath string, root int32) *view {
	strip := 0
	if p := t.ix.Entry(root).Path; p != "" {
		strip = len(p) + 1
	}
	return &view{t: t, path: viewPath, root: root, strip: strip}
}

// pathOf is the view path of an entry below the view's root.
func (v *view) pathOf(idx int32) string {
	if idx == v.root {
		return v.path
	}
	return v.path + "/" + v.t.ix.Entry(idx).Path[v.strip:]
}

// size is what reads of the file return, cached. A file whose size cannot be determined
// (missing or damaged blob) shows as empty; opening it fails with EIO.
func (t *tree) size(idx int32) int64 {
	v := t.sizes[idx].Load()
	if v > 0 {
		return v - 1
	}
	if v < 0 {
		return 0
	}
	n, err := t.src.FileSize(t.ix.Entry(idx))
	if err != nil || n < 0 {
		if err == nil {
			err = fmt.Errorf("negative size %d", n)
		}
		t.sizeErr.Store(idx, err)
		t.sizes[idx].Store(-1)
		return 0
	}
	t.sizes[idx].Store(n + 1)
	return n
}

// warmDir makes sure the sizes of the files in folder dir are known, looking them up in
// parallel (warmSizes), then starts the same for its subfolders in the background: a
// walk such as ls -lR, find or du opens them next, and finds their sizes ready instead
// of waiting for each folder's disk reads in turn. The look-ahead is one level, so
// listing one folder never reads more than its grandchildren's blobs.
func (t *tree) warmDir(dir int32) {
	t.warmFolder(dir)
	go func() {
		for _, c := range t.ix.Children(dir) {
			if t.c.stopped.Load() {
				return
			}
			if t.ix.Entry(c).Kind == manifest.KindDir {
				t.warmFolder(c)
			}
		}
	}()
}

// warmFolder looks up the sizes of dir's files, or waits for the look-up already under
// way for it, so that no blob is read twice for one folder.
func (t *tree) warmFolder(dir int32) {
	if len(t.unknownSizes(t.ix.Children(dir))) == 0 {
		return // the common case once a folder has been listed: no channel, no map
	}
	done := make(chan struct{})
	if prev, busy := t.warming.LoadOrStore(dir, done); busy {
		<-prev.(chan struct{})
		return
	}
	t.warmSizes(t.unknownSizes(t.ix.Children(dir)))
	t.warming.Delete(dir) // a later call finds every size cached: a scan, no reads
	close(done)
}

// unknownSizes are the files among entries whose size has not been looked up yet.
func (t *tree) unknownSizes(entries []int32) []int32 {
	var todo []int32
	for _, c := range entries {
		if t.sizes[c].Load() == 0 && t.ix.Entry(c).Kind == manifest.KindFile {
			todo = append(todo, c)
		}
	}
	return todo
}

// sizeWorkers is how many file sizes warmSizes looks up at once: enough to keep the
// queue of an SSD or a virtual disk full, few enough to be harmless on a spinning one.
const sizeWorkers = 32

// warmSizes looks up, in parallel, the sizes of the files todo.
// A listing (READDIRPLUS) asks for its children's attributes one by one, and the size of
// an encrypted file costs a read of its blob's last block (of a plain one, a stat of
// its blob): done one at a time on a cold cache, ls -lR of 100,000 files waits for
// 100,000 disk latencies in a row. Done here, when the folder is opened, the reads
// overlap and the listing finds every size cached.
func (t *tree) warmSizes(todo []int32) {
	if len(todo) == 0 {
		return
	}
	if len(todo) == 1 {
		t.size(todo[0]) // no worker needed
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(sizeWorkers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.sizeSlots <- struct{}{}
			defer func() { <-t.sizeSlots }()
			for i := next.Add(1) - 1; i < int64(len(todo)) && !t.c.stopped.Load(); i = next.Add(1) - 1 {
				t.size(todo[i])
			}
		}()
	}
	wg.Wait()
}

// dirLinks is 2 + the number of subdirectories of a directory entry, cached.
func (t *tree) dirLinks(idx int32) uint32 {
	if v := t.subdirs[idx].Load(); v > 0 {
		return uint32(v-1) + 2
	}
	n := int32(0)
	for _, c := range t.ix.Children(idx) {
		if t.ix.Entry(c).Kind == manifest.KindDir && validName(t.ix.Name(c)) {
			n++
		}
	}
	t.subdirs[idx].Store(n + 1)
	return uint32(n) + 2
}

// logOnce logs a read failure of an entry the first time it happens: a tool retrying
// the same file must not flood the log.
func (t *tree) logOnce(idx int32, err error) {
	if _, seen := t.logged.LoadOrStore(idx, struct{}{}); seen {
		return
	}
	e := t.ix.Entry(idx)
	name := e.Domain + "/" + e.Path
	msg := err.Error()
	if !strings.Contains(msg, name) {
		msg = name + ": " + msg
	}
	t.c.log.Printf("iosbackup: cannot read %s", msg)
}

// views counts the places a file or raw symlink appears in this backup's folder: its
// st_nlink, so that du and cp -a count or copy it once.
func (t *tree) views(idx int32) uint32 {
	e := t.ix.Entry(idx)
	n := uint32(0)
	if validName(e.Domain) {
		n++
	}
	if t.inApps[e.Domain] {
		n++
	}
	if t.photos >= 0 && e.Domain == "CameraRollDomain" && strings.HasPrefix(e.Path, photosPath+"/") {
		n++
	}
	if t.deviceWinner(idx) {
		n++
	}
	return max(n, 1)
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

// linkTarget is what readlink returns for a symlink entry shown at viewPath: by default
// a relative path to the target inside this backup's device/ view, whatever view the
// link is in, so following it never leaves the mount.
func (t *tree) linkTarget(e *manifest.Entry, viewPath string) string {
	if t.c.opt.RawSymlinks {
		return e.Target()
	}
	return relativePath(path.Dir(viewPath), "device"+strings.TrimSuffix(t.deviceTarget(e), "/"))
}

// deviceTarget is the absolute device path a symlink points at. A relative target is
// resolved from the link's own device folder; ".." never climbs above the device root.
func (t *tree) deviceTarget(e *manifest.Entry) string {
	target := e.Target()
	if i := strings.IndexByte(target, 0); i >= 0 {
		target = target[:i]
	}
	if !strings.HasPrefix(target, "/") {
		base, ok := t.mountPath[e.Domain]
		if !ok {
			base = "" // unplaced domain: resolve as if it sat at the device root
		}
		target = path.Dir(base+"/"+e.Path) + "/" + target
	}
	return path.Clean(target)
}

// relativePath returns the path from folder from to to, both relative to the same root.
func relativePath(from, to string) string {
	f := splitPath(from)
	g := splitPath(to)
	i := 0
	for i < len(f) && i < len(g) && f[i] == g[i] {
		i++
	}
	var b strings.Builder
	for range f[i:] {
		b.WriteString("../")
	}
	b.WriteString(strings.Join(g[i:], "/"))
	s := strings.TrimSuffix(b.String(), "/")
	if s == "" {
		return "."
	}
	return s
}

func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

// mountingUser returns the uid and gid that own what the mount shows by default.
func mountingUser() (uint32, uint32) {
	return uint32(os.Getuid()), uint32(os.Getgid())
}
