//go:build !windows

package fuse

import (
	"bytes"
	"context"
	"errors"
	"log"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/fs/view"
	"iosbackup/manifest"
)

// resolvePath walks a slash-separated path from d the way the kernel's lookups would.
func resolvePath(t *testing.T, d *dir, p string) node {
	t.Helper()
	var cur node = d
	for _, c := range strings.Split(p, "/") {
		if c == "" {
			continue
		}
		d, ok := cur.(*dir)
		if !ok {
			t.Fatalf("%s: %q is not a directory", p, c)
		}
		v := d.v.Lookup(c)
		if v == nil {
			return nil
		}
		cur = newNode(d.c, v)
	}
	return cur
}

func mustResolve(t *testing.T, d *dir, p string) node {
	t.Helper()
	n := resolvePath(t, d, p)
	if n == nil {
		t.Fatalf("%s: not found", p)
	}
	return n
}

func listNames(t *testing.T, d *dir) []string {
	t.Helper()
	var names []string
	c := d.v.List()
	for {
		name, n := c.Next()
		if n == nil {
			return names
		}
		names = append(names, name)
	}
}

func attrOf(n node) gofuse.Attr {
	var a gofuse.Attr
	fillAttr(&a, n.viewNode().Attr())
	return a
}

func readNode(t *testing.T, n node) ([]byte, syscall.Errno) {
	t.Helper()
	f, ok := n.(*file)
	if !ok {
		t.Fatalf("%T is not a file", n)
	}
	fh, flags, errno := f.Open(context.Background(), syscall.O_RDONLY)
	if errno != 0 {
		return nil, errno
	}
	if flags&gofuse.FOPEN_KEEP_CACHE == 0 {
		t.Errorf("open without FOPEN_KEEP_CACHE")
	}
	h := fh.(*fileHandle)
	defer h.Release(context.Background())
	var out []byte
	buf := make([]byte, 7) // small, to exercise offsets
	for off := int64(0); ; {
		res, errno := h.Read(context.Background(), buf, off)
		if errno != 0 {
			return out, errno
		}
		b, _ := res.Bytes(nil)
		if len(b) == 0 {
			return out, 0
		}
		out = append(out, b...)
		off += int64(len(b))
	}
}

// newTestRoot is the root node a mount of the backups would have.
func newTestRoot(t *testing.T, opt view.Options, backups ...view.Backup) (*dir, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	opt.Logger = log.New(&logs, "", 0)
	root, _ := newRoot(view.New(opt, backups...))
	return root, &logs
}

func TestXAttrs(t *testing.T) {
	root, _ := newTestRoot(t, view.Options{}, view.Backup{Source: newFixture("b")})
	n := mustResolve(t, root, "device/var/mobile/Library/SMS/sms.db").(*file)
	ctx := context.Background()
	name := xattrPrefix + "com.apple.metadata:kMDItemWhereFroms"
	if sz, errno := n.Getxattr(ctx, name, nil); errno != 0 || sz != 5 {
		t.Errorf("size query: %d, %v; want 5", sz, errno)
	}
	if sz, errno := n.Getxattr(ctx, name, make([]byte, 2)); errno != syscall.ERANGE || sz != 5 {
		t.Errorf("small buffer: %d, %v; want 5, ERANGE", sz, errno)
	}
	buf := make([]byte, 256)
	if sz, errno := n.Getxattr(ctx, name, buf); errno != 0 || string(buf[:sz]) != "where" {
		t.Errorf("get: %q, %v", buf[:sz], errno)
	}
	if _, errno := n.Getxattr(ctx, xattrPrefix+"nope", buf); errno != errNoAttr {
		t.Errorf("absent attribute: %v, want %v", errno, errNoAttr)
	}
	apps := mustResolve(t, root, "apps")
	if xattrPrefix != "" {
		for _, other := range []string{"com.apple.quarantine", "security.selinux", "system.posix_acl_access", "trusted.x"} {
			if _, errno := n.Getxattr(ctx, other, buf); errno != errNoNamespace {
				t.Errorf("name %s outside %s: %v, want %v", other, xattrPrefix, errno, errNoNamespace)
			}
			if _, errno := apps.(*dir).Getxattr(ctx, other, buf); errno != errNoNamespace {
				t.Errorf("virtual folder, name %s outside %s: %v, want %v", other, xattrPrefix, errno, errNoNamespace)
			}
		}
	}
	list := xattrPrefix + "com.apple.metadata:kMDItemWhereFroms\x00" + xattrPrefix + "com.apple.quarantine\x00"
	if sz, errno := n.Listxattr(ctx, nil); errno != 0 || int(sz) != len(list) {
		t.Errorf("list size: %d, %v; want %d", sz, errno, len(list))
	}
	if sz, errno := n.Listxattr(ctx, make([]byte, 3)); errno != syscall.ERANGE || int(sz) != len(list) {
		t.Errorf("list small buffer: %d, %v", sz, errno)
	}
	if sz, errno := n.Listxattr(ctx, buf); errno != 0 || string(buf[:sz]) != list {
		t.Errorf("list: %q, %v; want %q", buf[:sz], errno, list)
	}
	other := mustResolve(t, root, "domains/HomeDomain/Library/Preferences/com.apple.springboard.plist").(*file)
	if sz, errno := other.Listxattr(ctx, buf); sz != 0 || errno != 0 {
		t.Errorf("no xattrs: list %d, %v", sz, errno)
	}
	if _, errno := apps.(*dir).Getxattr(ctx, name, buf); errno != errNoAttr {
		t.Errorf("virtual folder: %v", errno)
	}
	if testing.AllocsPerRun(100, func() {
		n.Getxattr(ctx, name, buf)
		n.Listxattr(ctx, buf)
	}) != 0 {
		t.Errorf("xattr calls allocate")
	}
}

func TestMissingBlobLogsOnce(t *testing.T) {
	src := newFixture("b")
	root, logs := newTestRoot(t, view.Options{}, view.Backup{Source: src})
	p := "domains/HomeDomain/Library/missing.txt"
	n := mustResolve(t, root, p)
	if a := attrOf(n); a.Size != 0 || a.Mode&syscall.S_IFMT != syscall.S_IFREG {
		t.Errorf("missing blob listed as %+v", a)
	}
	for i := 0; i < 3; i++ {
		if _, errno := readNode(t, mustResolve(t, root, "device/var/mobile/Library/missing.txt")); errno != syscall.EIO {
			t.Fatalf("read of a missing blob: %v, want EIO", errno)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "HomeDomain/Library/missing.txt") || !strings.Contains(lines[0], "/backup/") {
		t.Errorf("log %q: want one line naming the file and its blob", logs.String())
	}
}

// A reader error (damaged blob) is EIO and logged, and does not affect other files.
func TestDamagedBlob(t *testing.T) {
	src := &failingSource{fakeSource: newFixture("b")}
	root, logs := newTestRoot(t, view.Options{}, view.Backup{Source: src})
	_, errno := readNode(t, mustResolve(t, root, "domains/HomeDomain/Library/SMS/sms.db"))
	if errno != syscall.EIO {
		t.Errorf("damaged read: %v, want EIO", errno)
	}
	if !strings.Contains(logs.String(), "bad padding") {
		t.Errorf("log %q lacks the reader's error", logs.String())
	}
	if got, errno := readNode(t, mustResolve(t, root, "photos/100APPLE/IMG_0001.HEIC")); errno != 0 || string(got) != "heic one" {
		t.Errorf("other file: %q %v", got, errno)
	}
}

type failingSource struct{ *fakeSource }

func (s *failingSource) OpenFile(e *manifest.Entry) (view.Reader, error) {
	f, err := s.fakeSource.OpenFile(e)
	if err != nil || e.Path != "Library/SMS/sms.db" {
		return f, err
	}
	return failingFile{f}, nil
}

type failingFile struct{ view.Reader }

func (failingFile) ReadAt(p []byte, off int64) (int, error) {
	return 0, errors.New("HomeDomain/Library/SMS/sms.db: bad padding")
}

// Every write-like operation answers EROFS on every kind of node.
func TestReadOnlyNodes(t *testing.T) {
	root, _ := newTestRoot(t, view.Options{}, view.Backup{Source: newFixture("b")}, view.Backup{Name: "bad", Err: errors.New("x")})
	ctx := context.Background()
	nodes := map[string]node{"root": root}
	for _, p := range []string{"b", "b/domains", "b/domains/HomeDomain/Library", "b/device/var/mobile",
		"b/domains/HomeDomain/Library/SMS/sms.db", "b/domains/HomeDomain/Library/sms-link", "bad/README.txt"} {
		nodes[p] = mustResolve(t, root, p)
	}
	for p, n := range nodes {
		check := func(op string, errno syscall.Errno) {
			if errno != syscall.EROFS {
				t.Errorf("%s: %s = %v, want EROFS", p, op, errno)
			}
		}
		var out gofuse.EntryOut
		if x, ok := n.(fs.NodeSetattrer); ok {
			check("setattr", x.Setattr(ctx, nil, &gofuse.SetAttrIn{}, &gofuse.AttrOut{}))
		} else {
			t.Errorf("%s: no Setattr", p)
		}
		if x, ok := n.(fs.NodeSetxattrer); ok {
			check("setxattr", x.Setxattr(ctx, "user.x", []byte("v"), 0))
		}
		if x, ok := n.(fs.NodeRemovexattrer); ok {
			check("removexattr", x.Removexattr(ctx, "user.x"))
		}
		if x, ok := n.(fs.NodeAccesser); ok {
			check("access(W_OK)", x.Access(ctx, 2))
			if errno := x.Access(ctx, 4); errno != 0 {
				t.Errorf("%s: access(R_OK) = %v", p, errno)
			}
		}
		if _, isDir := n.(*dir); isDir {
			_, errno := n.(fs.NodeMkdirer).Mkdir(ctx, "new", 0o755, &out)
			check("mkdir", errno)
			_, _, _, errno = n.(fs.NodeCreater).Create(ctx, "new", syscall.O_WRONLY, 0o644, &out)
			check("create", errno)
			check("unlink", n.(fs.NodeUnlinker).Unlink(ctx, "x"))
			check("rmdir", n.(fs.NodeRmdirer).Rmdir(ctx, "x"))
			check("rename", n.(fs.NodeRenamer).Rename(ctx, "x", n, "y", 0))
			_, errno = n.(fs.NodeSymlinker).Symlink(ctx, "t", "l", &out)
			check("symlink", errno)
			_, errno = n.(fs.NodeMknoder).Mknod(ctx, "n", 0o644, 0, &out)
			check("mknod", errno)
			_, errno = n.(fs.NodeLinker).Link(ctx, n, "l", &out)
			check("link", errno)
		}
		if o, ok := n.(fs.NodeOpener); ok {
			for _, fl := range []uint32{syscall.O_WRONLY, syscall.O_RDWR, syscall.O_RDONLY | syscall.O_TRUNC} {
				_, _, errno := o.Open(ctx, fl)
				check("open for writing", errno)
			}
			_, errno := n.(fs.NodeWriter).Write(ctx, nil, []byte("x"), 0)
			check("write", errno)
		}
	}
}

// Through go-fuse's request layer (no kernel): the same file looked up in two views is
// one node; unlink and mkdir are refused rather than silently "succeeding".
func TestBridge(t *testing.T) {
	root, _ := newTestRoot(t, view.Options{}, view.Backup{Source: newFixture("b")})
	sec := timeHour
	raw := fs.NewNodeFS(root, &fs.Options{EntryTimeout: &sec, AttrTimeout: &sec, NullPermissions: true})
	lookup := func(p string) (uint64, gofuse.Attr) {
		t.Helper()
		id := uint64(1)
		var out gofuse.EntryOut
		for _, c := range strings.Split(p, "/") {
			out = gofuse.EntryOut{}
			if st := raw.Lookup(nil, &gofuse.InHeader{NodeId: id}, c, &out); !st.Ok() {
				t.Fatalf("lookup %s in %s: %v", c, p, st)
			}
			id = out.NodeId
		}
		return id, out.Attr
	}
	n1, a1 := lookup("domains/HomeDomain/Library/SMS/sms.db")
	n2, a2 := lookup("device/var/mobile/Library/SMS/sms.db")
	if n1 != n2 || a1.Ino != a2.Ino {
		t.Errorf("two views gave nodes %d and %d (ino %d, %d)", n1, n2, a1.Ino, a2.Ino)
	}
	var attr gofuse.AttrOut
	if st := raw.GetAttr(nil, &gofuse.GetAttrIn{InHeader: gofuse.InHeader{NodeId: n1}}, &attr); !st.Ok() || attr.Size != a1.Size || attr.Mode != a1.Mode {
		t.Errorf("getattr %v: %+v vs lookup %+v", st, attr.Attr, a1)
	}
	dir, _ := lookup("domains/HomeDomain/Library")
	if st := raw.Unlink(nil, &gofuse.InHeader{NodeId: dir}, "sms-link"); st != gofuse.Status(syscall.EROFS) {
		t.Errorf("unlink: %v", st)
	}
	var out gofuse.EntryOut
	if st := raw.Mkdir(nil, &gofuse.MkdirIn{InHeader: gofuse.InHeader{NodeId: dir}}, "x", &out); st != gofuse.Status(syscall.EROFS) {
		t.Errorf("mkdir: %v", st)
	}
	var open gofuse.OpenOut
	if st := raw.Open(nil, &gofuse.OpenIn{InHeader: gofuse.InHeader{NodeId: n1}, Flags: syscall.O_RDONLY}, &open); !st.Ok() {
		t.Fatalf("open: %v", st)
	}
	buf := make([]byte, 100)
	res, st := raw.Read(nil, &gofuse.ReadIn{InHeader: gofuse.InHeader{NodeId: n1}, Fh: open.Fh, Size: 100}, buf)
	data, _ := res.Bytes(buf)
	if !st.Ok() || string(data) != "SQLite format 3\x00home sms" {
		t.Errorf("read %q %v", data, st)
	}
	raw.Release(nil, &gofuse.ReleaseIn{InHeader: gofuse.InHeader{NodeId: n1}, Fh: open.Fh})
}

func TestDirHandleSeekAndLookup(t *testing.T) {
	root, _ := newTestRoot(t, view.Options{}, view.Backup{Source: newFixture("b")})
	d := mustResolve(t, root, "device/var/mobile/Library").(*dir)
	fh, flags, _ := d.OpendirHandle(context.Background(), 0)
	if flags&gofuse.FOPEN_CACHE_DIR == 0 {
		t.Errorf("directory not cacheable")
	}
	h := fh.(*dirHandle)
	ctx := context.Background()
	var all []string
	for {
		de, errno := h.Readdirent(ctx)
		if errno != 0 {
			t.Fatal(errno)
		}
		if de == nil {
			break
		}
		all = append(all, de.Name)
	}
	if want := append([]string{".", ".."}, listNames(t, d)...); !slices.Equal(all, want) {
		t.Errorf("handle lists %q, want %q", all, want)
	}
	for _, off := range []int{0, 1, 2, 5} {
		h.Seekdir(ctx, uint64(off))
		de, _ := h.Readdirent(ctx)
		if de == nil || de.Name != all[off] {
			t.Errorf("after seekdir(%d): %v, want %s", off, de, all[off])
		}
	}
}

const timeHour = time.Hour

// Opening and listing a folder looks up no size (find needs none): the files' entries
// go out without attributes. The first file looked up has the sizes of its folder's
// files and, in the background, those of its subfolders' files looked up, each once:
// the attributes a listing then asks for cost nothing more.
func TestListingDefersSizes(t *testing.T) {
	src := newFixture("b")
	root, _ := newTestRoot(t, view.Options{}, view.Backup{Source: src})
	const lib0 = "Library/"
	var want []fixtureEntry // files of HomeDomain/Library and of its subfolders
	for _, f := range fixtureEntries() {
		rest, ok := strings.CutPrefix(f.path, lib0)
		if ok && f.domain == "HomeDomain" && f.kind == manifest.KindFile && strings.Count(rest, "/") <= 1 {
			want = append(want, f)
		}
	}
	if len(want) < 4 {
		t.Fatalf("fixture has %d files under HomeDomain/%s, want a few at two depths", len(want), lib0)
	}
	lib := mustResolve(t, root, "domains/HomeDomain/Library").(*dir)
	for range 2 {
		fh, _, errno := lib.OpendirHandle(context.Background(), 0)
		if errno != 0 {
			t.Fatalf("opendir: %v", errno)
		}
		h := fh.(*dirHandle)
		files := 0
		for {
			de, errno := h.Readdirent(context.Background())
			if errno != 0 {
				t.Fatalf("readdir: %v", errno)
			}
			if de == nil {
				break
			}
			if de.Name == "." || de.Name == ".." {
				continue
			}
			if de.Mode != gofuse.S_IFREG {
				continue // would make an inode, which needs a mounted server
			}
			files++
			var out gofuse.EntryOut
			if _, errno := h.Lookup(context.Background(), de.Name, &out); errno != errDeferred {
				t.Errorf("READDIRPLUS entry of file %s: errno %v, want the bare entry (%v)", de.Name, errno, errDeferred)
			}
		}
		if files == 0 {
			t.Fatal("listing of HomeDomain/Library shows no file")
		}
	}
	if got := src.sizes.Load(); got != 0 {
		t.Fatalf("FileSize called %d times by listing the folder, want 0", got)
	}
	first := ""
	for _, f := range want {
		if rest := strings.TrimPrefix(f.path, lib0); !strings.Contains(rest, "/") {
			first = rest
			break
		}
	}
	if first == "" {
		t.Fatalf("fixture has no file directly in HomeDomain/%s", lib0)
	}
	if lib.child(first) == nil { // what LOOKUP finds, before it makes the inode
		t.Fatalf("lookup %s: not found", first)
	}
	for i := 0; src.sizes.Load() < int64(len(want)) && i < 500; i++ {
		time.Sleep(10 * time.Millisecond) // the subfolders are warmed in the background
	}
	if got := src.sizes.Load(); got != int64(len(want)) {
		t.Fatalf("FileSize called %d times after the first lookup, want %d (once per file)", got, len(want))
	}
	for _, f := range want {
		n := resolvePath(t, root, "domains/HomeDomain/"+f.path)
		if n == nil {
			continue // a name the mount cannot show
		}
		if a := attrOf(n); a.Size != uint64(len(f.data)) {
			t.Errorf("%s: size %d, want %d", f.path, a.Size, len(f.data))
		}
	}
	if got := src.sizes.Load(); got != int64(len(want)) {
		t.Errorf("stat after the warm-up called FileSize %d more times", got-int64(len(want)))
	}
}
