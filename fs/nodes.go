package backupfs

import (
	"context"
	"io"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/manifest"
)

// node is a child before go-fuse turns it into an inode: enough to answer a directory
// listing (stable) and a lookup (fill).
type node interface {
	fs.InodeEmbedder
	stable() fs.StableAttr
	fill(out *fuse.Attr)
	btime() int64
}

// dirNode is a directory that answers Lookup and listings from precomputed data.
type dirNode interface {
	node
	resolve(name string) node // nil when there is no such child
	cursor() cursor
}

// cursor walks a directory's children in name order.
type cursor interface {
	next() (name string, child node) // child nil at the end
}

// lookupIn answers a Lookup with child c of parent. go-fuse keeps an existing inode
// with the same number (the same file seen through another view) instead of c.
func lookupIn(ctx context.Context, parent *fs.Inode, c node, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if c == nil {
		return nil, syscall.ENOENT
	}
	c.fill(&out.Attr)
	return parent.NewInode(ctx, c, c.stable()), 0
}

// openDir returns a handle that lists d lazily and answers READDIRPLUS lookups without
// searching again. Listings never change, so the kernel may cache them.
func openDir(d dirNode) (fs.FileHandle, uint32, syscall.Errno) {
	return &dirHandle{dir: d, cur: d.cursor()}, fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE, 0
}

func setSize(out *fuse.Attr, size int64) {
	out.Size = uint64(size)
	out.Blksize = 4096
	out.Blocks = (uint64(size) + 4095) / 4096 * 8 // 512-byte units, what du sums
}

func setTimes(out *fuse.Attr, mtime, ctime, birth int64) {
	out.Mtime, out.Atime, out.Ctime = uint64(mtime), uint64(mtime), uint64(ctime)
	setBirth(out, birth)
}

// ---- dirHandle ----

type dirHandle struct {
	dir      dirNode
	cur      cursor
	pos      uint64 // entries produced, "." and ".." included
	lastName string
	last     node
	de       fuse.DirEntry
}

var (
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
	_ = (fs.FileLookuper)((*dirHandle)(nil))
	_ = (fs.FileReleasedirer)((*dirHandle)(nil))
)

// Readdirent lists "." and ".." (as every local filesystem does; ls -a and some
// archivers expect them), then the children in name order.
func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	h.last = nil
	if h.pos < 2 {
		self := h.dir.EmbeddedInode()
		ino := self.StableAttr().Ino
		name := "."
		if h.pos == 1 {
			name = ".."
			if _, parent := self.Parent(); parent != nil {
				ino = parent.StableAttr().Ino
			}
		}
		h.pos++
		h.de = fuse.DirEntry{Name: name, Mode: fuse.S_IFDIR, Ino: ino}
		return &h.de, 0
	}
	name, c := h.cur.next()
	if c == nil {
		return nil, 0
	}
	st := c.stable()
	h.pos++
	h.lastName, h.last = name, c
	// go-fuse copies the entry before the next call, so one DirEntry is reused.
	h.de = fuse.DirEntry{Name: name, Mode: st.Mode, Ino: st.Ino}
	return &h.de, 0
}

// Seekdir restarts the listing at a position: go-fuse numbers entries 1, 2, ... and
// passes the number of the last entry the kernel consumed.
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	h.cur = h.dir.cursor()
	h.pos = 0
	h.last = nil
	for h.pos < off {
		if h.pos < 2 {
			h.pos++
			continue
		}
		if _, c := h.cur.next(); c == nil {
			break
		}
		h.pos++
	}
	return 0
}

// Lookup is called by READDIRPLUS for the entry just produced: answer it without a search.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	c := h.last
	h.last = nil
	if c == nil || name != h.lastName {
		c = h.dir.resolve(name)
	}
	return lookupIn(ctx, h.dir.EmbeddedInode(), c, out)
}

func (h *dirHandle) Releasedir(ctx context.Context, releaseFlags uint32) {}

// ---- virtualDir: folders that exist only in the mount ----

// virtualDir is a folder with a fixed list of children: the mount root, a backup's
// folder, domains/, apps/, an app's folder, groups/, plugins/.
type virtualDir struct {
	fs.Inode
	readOnly
	ino   uint64
	names []string // sorted
	make  func(i int) node
	files int   // how many children are files (nlink counts folders)
	when  int64 // mtime, ctime and birth
}

var (
	_ = (fs.NodeLookuper)((*virtualDir)(nil))
	_ = (fs.NodeOpendirHandler)((*virtualDir)(nil))
	_ = (fs.NodeGetattrer)((*virtualDir)(nil))
	_ = (fs.NodeGetxattrer)((*virtualDir)(nil))
	_ = (fs.NodeListxattrer)((*virtualDir)(nil))
	_ = (fs.NodeSetattrer)((*virtualDir)(nil))
	_ = (fs.NodeMkdirer)((*virtualDir)(nil))
	_ = (fs.NodeCreater)((*virtualDir)(nil))
	_ = (fs.NodeUnlinker)((*virtualDir)(nil))
	_ = (fs.NodeRmdirer)((*virtualDir)(nil))
	_ = (fs.NodeRenamer)((*virtualDir)(nil))
	_ = (fs.NodeStatfser)((*virtualDir)(nil))
	_ = (fs.NodeAccesser)((*virtualDir)(nil))
)

func (d *virtualDir) stable() fs.StableAttr { return fs.StableAttr{Mode: fuse.S_IFDIR, Ino: d.ino} }
func (d *virtualDir) btime() int64          { return d.when }

func (d *virtualDir) fill(out *fuse.Attr) {
	out.Ino = d.ino
	out.Mode = fuse.S_IFDIR | 0o555
	out.Nlink = uint32(2 + len(d.names) - d.files)
	out.Uid, out.Gid = d.c.uid, d.c.gid
	setSize(out, 0)
	setTimes(out, d.when, d.when, d.when)
}

func (d *virtualDir) resolve(name string) node {
	i, ok := searchStrings(d.names, name)
	if !ok {
		return nil
	}
	return d.make(i)
}

func (d *virtualDir) cursor() cursor { return &sliceCursor{d: d} }

func (d *virtualDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return lookupIn(ctx, d.EmbeddedInode(), d.resolve(name), out)
}

func (d *virtualDir) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return openDir(d)
}

func (d *virtualDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fill(&out.Attr)
	return 0
}

type sliceCursor struct {
	d *virtualDir
	i int
}

func (c *sliceCursor) next() (string, node) {
	if c.i >= len(c.d.names) {
		return "", nil
	}
	i := c.i
	c.i++
	return c.d.names[i], c.d.make(i)
}

func searchStrings(s []string, x string) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s) && s[lo] == x
}

// ---- entryDir: a directory of the backup in domains/, apps/ or photos/ ----

type entryDir struct {
	fs.Inode
	readOnly
	v   *view
	idx int32
}

var (
	_ = (fs.NodeLookuper)((*entryDir)(nil))
	_ = (fs.NodeOpendirHandler)((*entryDir)(nil))
	_ = (fs.NodeGetattrer)((*entryDir)(nil))
	_ = (fs.NodeGetxattrer)((*entryDir)(nil))
	_ = (fs.NodeListxattrer)((*entryDir)(nil))
	_ = (fs.NodeSetattrer)((*entryDir)(nil))
	_ = (fs.NodeMkdirer)((*entryDir)(nil))
	_ = (fs.NodeCreater)((*entryDir)(nil))
	_ = (fs.NodeUnlinker)((*entryDir)(nil))
	_ = (fs.NodeRmdirer)((*entryDir)(nil))
	_ = (fs.NodeRenamer)((*entryDir)(nil))
	_ = (fs.NodeSymlinker)((*entryDir)(nil))
	_ = (fs.NodeLinker)((*entryDir)(nil))
	_ = (fs.NodeMknoder)((*entryDir)(nil))
	_ = (fs.NodeSetxattrer)((*entryDir)(nil))
	_ = (fs.NodeRemovexattrer)((*entryDir)(nil))
)

func newEntryDir(v *view, idx int32) *entryDir {
	return &entryDir{readOnly: readOnly{v.t.c}, v: v, idx: idx}
}

func (d *entryDir) stable() fs.StableAttr {
	return fs.StableAttr{Mode: fuse.S_IFDIR, Ino: d.v.t.dirIno(d.v.pathOf(d.idx))}
}

func (d *entryDir) btime() int64 { return d.v.t.entryBirth(d.v.t.ix.Entry(d.idx)) }

func (d *entryDir) fill(out *fuse.Attr) {
	t := d.v.t
	t.fillEntry(t.ix.Entry(d.idx), fuse.S_IFDIR, out)
	out.Ino = d.stable().Ino
	out.Nlink = t.dirLinks(d.idx)
	setSize(out, 0)
}

func (d *entryDir) resolve(name string) node {
	c, ok := d.v.t.ix.LookupChild(d.idx, name)
	if !ok {
		return nil
	}
	return d.v.child(c)
}

// child makes the node for entry c of this view.
func (v *view) child(c int32) node {
	e := v.t.ix.Entry(c)
	switch e.Kind {
	case manifest.KindDir:
		return newEntryDir(v, c)
	case manifest.KindFile:
		return newFileNode(v.t, c)
	case manifest.KindSymlink:
		return newLinkNode(v.t, c, v.pathOf(c))
	}
	return nil
}

func (d *entryDir) cursor() cursor {
	return &entryCursor{v: d.v, kids: d.v.t.ix.Children(d.idx)}
}

func (d *entryDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return lookupIn(ctx, d.EmbeddedInode(), d.resolve(name), out)
}

func (d *entryDir) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	d.v.t.warmDir(d.idx)
	return openDir(d)
}

func (d *entryDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fill(&out.Attr)
	return 0
}

func (d *entryDir) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return getxattr(d.v.t.ix.Entry(d.idx), attr, dest)
}

func (d *entryDir) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return listxattr(d.v.t.ix.Entry(d.idx), dest)
}

type entryCursor struct {
	v    *view
	kids []int32
	i    int
}

func (c *entryCursor) next() (string, node) {
	for c.i < len(c.kids) {
		k := c.kids[c.i]
		c.i++
		name := c.v.t.ix.Name(k)
		if len(name) > maxNameLen {
			continue // cannot be looked up: listing it would only produce errors
		}
		if n := c.v.child(k); n != nil {
			return name, n
		}
	}
	return "", nil
}

// ---- fileNode ----

// fileNode is a regular file of the backup. It has one inode in all views.
type fileNode struct {
	fs.Inode
	readOnly
	t   *tree
	idx int32
}

var (
	_ = (fs.NodeOpener)((*fileNode)(nil))
	_ = (fs.NodeGetattrer)((*fileNode)(nil))
	_ = (fs.NodeGetxattrer)((*fileNode)(nil))
	_ = (fs.NodeListxattrer)((*fileNode)(nil))
	_ = (fs.NodeSetxattrer)((*fileNode)(nil))
	_ = (fs.NodeRemovexattrer)((*fileNode)(nil))
	_ = (fs.NodeSetattrer)((*fileNode)(nil))
	_ = (fs.NodeWriter)((*fileNode)(nil))
	_ = (fs.NodeAllocater)((*fileNode)(nil))
	_ = (fs.NodeFsyncer)((*fileNode)(nil))
	_ = (fs.NodeAccesser)((*fileNode)(nil))
)

func newFileNode(t *tree, idx int32) *fileNode {
	return &fileNode{readOnly: readOnly{t.c}, t: t, idx: idx}
}

func (f *fileNode) stable() fs.StableAttr {
	return fs.StableAttr{Mode: fuse.S_IFREG, Ino: f.t.fileInoAt(f.idx)}
}

func (f *fileNode) btime() int64 { return f.t.entryBirth(f.t.ix.Entry(f.idx)) }

func (f *fileNode) fill(out *fuse.Attr) {
	e := f.t.ix.Entry(f.idx)
	f.t.fillEntry(e, fuse.S_IFREG, out)
	out.Ino = f.t.fileInoAt(f.idx)
	out.Nlink = f.t.views(f.idx)
	if f.t.blobs != nil && out.Nlink < 2 {
		// Shown in more than one snapshot: du counts an inode once only when its
		// link count says it has others.
		out.Nlink = 2
	}
	setSize(out, f.t.size(f.idx))
}

func (f *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.fill(&out.Attr)
	return 0
}

func (f *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return getxattr(f.t.ix.Entry(f.idx), attr, dest)
}

func (f *fileNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return listxattr(f.t.ix.Entry(f.idx), dest)
}

// Open gives the handle its own reader, so concurrent readers never share a lock.
// Contents never change: the kernel may keep its page cache across opens.
func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		return nil, 0, syscall.EROFS
	}
	f.t.size(f.idx) // so that a size failure is known before the first read
	if err, ok := f.t.sizeErr.Load(f.idx); ok {
		f.t.logOnce(f.idx, err.(error))
		return nil, 0, syscall.EIO
	}
	r, err := f.t.src.OpenFile(f.t.ix.Entry(f.idx))
	if err != nil {
		f.t.logOnce(f.idx, err)
		return nil, 0, syscall.EIO
	}
	h := &fileHandle{r: r, t: f.t, idx: f.idx}
	f.t.c.open.Store(h, struct{}{})
	return h, fuse.FOPEN_KEEP_CACHE, 0
}

type fileHandle struct {
	r   File
	t   *tree
	idx int32
}

var (
	_ = (fs.FileReader)((*fileHandle)(nil))
	_ = (fs.FileReleaser)((*fileHandle)(nil))
)

// Read fills the kernel's buffer with one ReadAt: no copy, no lock.
func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.r.ReadAt(dest, off)
	if err != nil && err != io.EOF {
		h.t.logOnce(h.idx, err)
		return nil, syscall.EIO
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	if _, open := h.t.c.open.LoadAndDelete(h); !open {
		return 0 // already closed when the server stopped
	}
	if err := h.r.Close(); err != nil {
		h.t.logOnce(h.idx, err)
	}
	return 0
}

// ---- linkNode ----

// linkNode is a symlink of the backup as seen at one view path.
type linkNode struct {
	fs.Inode
	readOnly
	t   *tree
	idx int32
	at  string // view path of the link, relative to the backup's folder
}

var (
	_ = (fs.NodeReadlinker)((*linkNode)(nil))
	_ = (fs.NodeGetattrer)((*linkNode)(nil))
	_ = (fs.NodeGetxattrer)((*linkNode)(nil))
	_ = (fs.NodeListxattrer)((*linkNode)(nil))
	_ = (fs.NodeSetattrer)((*linkNode)(nil))
)

func newLinkNode(t *tree, idx int32, at string) *linkNode {
	return &linkNode{readOnly: readOnly{t.c}, t: t, idx: idx, at: at}
}

// A relativized link reads differently in each view, so it needs one inode per view;
// a raw link is the same everywhere and shares one like a file.
func (l *linkNode) stable() fs.StableAttr {
	e := l.t.ix.Entry(l.idx)
	if l.t.c.opt.RawSymlinks {
		return fs.StableAttr{Mode: fuse.S_IFLNK, Ino: l.t.fileIno(e)}
	}
	return fs.StableAttr{Mode: fuse.S_IFLNK, Ino: hashIno(l.t.id, inoLink, l.at, "")}
}

func (l *linkNode) btime() int64 { return l.t.entryBirth(l.t.ix.Entry(l.idx)) }

func (l *linkNode) fill(out *fuse.Attr) {
	e := l.t.ix.Entry(l.idx)
	l.t.fillEntry(e, fuse.S_IFLNK, out)
	out.Ino = l.stable().Ino
	out.Nlink = 1
	if l.t.c.opt.RawSymlinks {
		out.Nlink = l.t.views(l.idx)
	}
	setSize(out, int64(len(l.t.linkTarget(e, l.at))))
}

func (l *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	return []byte(l.t.linkTarget(l.t.ix.Entry(l.idx), l.at)), 0
}

func (l *linkNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	l.fill(&out.Attr)
	return 0
}

func (l *linkNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return getxattr(l.t.ix.Entry(l.idx), attr, dest)
}

func (l *linkNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return listxattr(l.t.ix.Entry(l.idx), dest)
}

// ---- noteFile: the explanation inside the folder of a backup that did not open ----

type noteFile struct {
	fs.Inode
	readOnly
	ino  uint64
	text []byte
	when int64
}

var (
	_ = (fs.NodeOpener)((*noteFile)(nil))
	_ = (fs.NodeReader)((*noteFile)(nil))
	_ = (fs.NodeGetattrer)((*noteFile)(nil))
	_ = (fs.NodeSetattrer)((*noteFile)(nil))
)

func (n *noteFile) stable() fs.StableAttr { return fs.StableAttr{Mode: fuse.S_IFREG, Ino: n.ino} }
func (n *noteFile) btime() int64          { return n.when }

func (n *noteFile) fill(out *fuse.Attr) {
	out.Ino = n.ino
	out.Mode = fuse.S_IFREG | 0o444
	out.Nlink = 1
	out.Uid, out.Gid = n.c.uid, n.c.gid
	setSize(out, int64(len(n.text)))
	setTimes(out, n.when, n.when, n.when)
}

func (n *noteFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fill(&out.Attr)
	return 0
}

func (n *noteFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		return nil, 0, syscall.EROFS
	}
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

func (n *noteFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off < 0 {
		return nil, syscall.EINVAL
	}
	if off >= int64(len(n.text)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(n.text[off:min(int64(len(n.text)), off+int64(len(dest)))]), 0
}

// ---- attributes of entries ----

func (t *tree) fillEntry(e *manifest.Entry, typ uint32, out *fuse.Attr) {
	out.Mode = typ | e.Perm()
	if t.c.opt.DeviceOwners {
		out.Uid, out.Gid = e.UID, e.GID
	} else {
		out.Uid, out.Gid = t.c.uid, t.c.gid
	}
	if e.Synthetic {
		// A folder the manifest implies but does not list has no recorded times.
		setTimes(out, t.when, t.when, t.when)
		return
	}
	setTimes(out, e.MTime, e.CTime, e.Birth)
}

func (t *tree) entryBirth(e *manifest.Entry) int64 {
	if e.Synthetic {
		return t.when
	}
	return e.Birth
}
