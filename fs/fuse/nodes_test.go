package fuse

import (
	"bytes"
	"context"
	"errors"
	"log"
	"path"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"iosbackup/manifest"
)

// resolvePath walks a slash-separated path from d the way the kernel's lookups would.
func resolvePath(t *testing.T, d dirNode, p string) node {
	t.Helper()
	var cur node = d
	for _, c := range strings.Split(p, "/") {
		if c == "" {
			continue
		}
		dir, ok := cur.(dirNode)
		if !ok {
			t.Fatalf("%s: %q is not a directory", p, c)
		}
		if cur = dir.resolve(c); cur == nil {
			return nil
		}
	}
	return cur
}

func mustResolve(t *testing.T, d dirNode, p string) node {
	t.Helper()
	n := resolvePath(t, d, p)
	if n == nil {
		t.Fatalf("%s: not found", p)
	}
	return n
}

func listNames(t *testing.T, d dirNode) []string {
	t.Helper()
	var names []string
	c := d.cursor()
	for {
		name, n := c.next()
		if n == nil {
			return names
		}
		names = append(names, name)
	}
}

func attrOf(n node) gofuse.Attr {
	var a gofuse.Attr
	n.fill(&a)
	return a
}

func readNode(t *testing.T, n node) ([]byte, syscall.Errno) {
	t.Helper()
	f, ok := n.(*fileNode)
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

func newTestRoot(t *testing.T, opt Options, backups ...Backup) (*Root, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	opt.Logger = log.New(&logs, "", 0)
	return NewRoot(opt, backups...), &logs
}

func TestTopLevel(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("iPhone 2024-05-01 10.00")})
	if got, want := listNames(t, root), []string{"apps", "device", "domains", "photos"}; !slices.Equal(got, want) {
		t.Fatalf("root lists %q, want %q", got, want)
	}
	doms := listNames(t, mustResolve(t, root, "domains").(dirNode))
	want := []string{"AppDomain-..", "AppDomain-com.example", "AppDomain-com.example.chat", "AppDomain-com.other",
		"AppDomainGroup-group.com.example.chat.shared", "AppDomainGroup-group.org.orphan",
		"AppDomainPlugin-com.example.chat.widget", "AppDomainPlugin-com.example.tool", "BooksDomain",
		"CameraRollDomain", "HealthDomain", "HomeDomain", "KeyboardDomain", "MediaDomain", "RootDomain", "WeirdDomain"}
	if !slices.Equal(doms, want) {
		t.Fatalf("domains/ lists %q\nwant %q", doms, want)
	}
}

// Every entry of the manifest is reachable under domains/ with its kind, mode, times and
// contents (except names that cannot be shown).
func TestDomainsViewShowsEveryEntry(t *testing.T) {
	src := newFixture("b")
	root, _ := newTestRoot(t, Options{}, Backup{Source: src})
	ix := src.Index()
	for i := int32(0); i < int32(ix.Len()); i++ {
		e := ix.Entry(i)
		p := "domains/" + e.Domain + "/" + e.Path
		n := resolvePath(t, root, p)
		if strings.Contains(e.Path, longName) {
			if n != nil {
				continue // lookups of long names are refused by the kernel anyway
			}
			continue
		}
		if n == nil {
			t.Errorf("%s: not found", p)
			continue
		}
		a := attrOf(n)
		wantType := map[manifest.Kind]uint32{manifest.KindFile: syscall.S_IFREG, manifest.KindDir: syscall.S_IFDIR, manifest.KindSymlink: syscall.S_IFLNK}[e.Kind]
		if a.Mode != wantType|e.Perm() {
			t.Errorf("%s: mode %o, want %o", p, a.Mode, wantType|e.Perm())
		}
		if !e.Synthetic && (a.Mtime != uint64(e.MTime) || a.Ctime != uint64(e.CTime)) {
			t.Errorf("%s: mtime/ctime %d/%d, want %d/%d", p, a.Mtime, a.Ctime, e.MTime, e.CTime)
		}
		if n.btime() != e.Birth && !e.Synthetic {
			t.Errorf("%s: birth %d, want %d", p, n.btime(), e.Birth)
		}
		if a.Ino <= 1 || a.Ino != n.stable().Ino {
			t.Errorf("%s: ino %d, stable %d", p, a.Ino, n.stable().Ino)
		}
		if e.Kind == manifest.KindFile {
			want, err := src.blob(e)
			got, errno := readNode(t, n)
			if err != nil {
				if errno != syscall.EIO || a.Size != 0 {
					t.Errorf("%s: missing blob: size %d, read errno %v; want 0, EIO", p, a.Size, errno)
				}
				continue
			}
			if errno != 0 || !bytes.Equal(got, want) || a.Size != uint64(len(want)) {
				t.Errorf("%s: read %q (%v), size %d; want %q", p, got, errno, a.Size, want)
			}
			if a.Blocks != (a.Size+4095)/4096*8 {
				t.Errorf("%s: %d blocks for %d bytes", p, a.Blocks, a.Size)
			}
		}
	}
	// The long name is not listed.
	for _, name := range listNames(t, mustResolve(t, root, "domains/HomeDomain/Library").(dirNode)) {
		if len(name) > 255 {
			t.Errorf("listed a %d-byte name", len(name))
		}
	}
}

func TestOwners(t *testing.T) {
	src := newFixture("b")
	uid, gid := mountingUser()
	root, _ := newTestRoot(t, Options{}, Backup{Source: src})
	a := attrOf(mustResolve(t, root, "domains/HomeDomain/Library/SMS/sms.db"))
	if a.Uid != uid || a.Gid != gid {
		t.Errorf("default owner %d:%d, want the mounting user %d:%d", a.Uid, a.Gid, uid, gid)
	}
	root, _ = newTestRoot(t, Options{DeviceOwners: true}, Backup{Source: src})
	a = attrOf(mustResolve(t, root, "domains/HomeDomain/Library/SMS/sms.db"))
	if a.Uid != 501 || a.Gid != 501 {
		t.Errorf("DeviceOwners: owner %d:%d, want 501:501", a.Uid, a.Gid)
	}
}

func TestDeviceViewMerges(t *testing.T) {
	src := newFixture("b")
	root, _ := newTestRoot(t, Options{}, Backup{Source: src})
	cases := map[string]string{
		"device/var/mobile/Library/SMS/sms.db":                                                 "SQLite format 3\x00home sms",
		"device/var/mobile/Library/Health/conflict.txt":                                        "health wins (deeper)",
		"device/var/mobile/Library/Health/healthdb.sqlite":                                     "health db",
		"device/var/mobile/Library/same-as-media.txt":                                          "home wins (H < M)",
		"device/var/mobile/Media/Recordings/a.m4a":                                             "m4a",
		"device/var/mobile/Media/Books/Books.plist":                                            "books",
		"device/var/mobile/Media/DCIM/100APPLE/IMG_0001.HEIC":                                  "heic one",
		"device/var/root/Library/Caches/locationd/clients.plist":                               "root",
		"device/var/mobile/Containers/Data/Application/com.example.chat/Documents/chat.db":     "chat db",
		"device/var/mobile/Containers/Shared/AppGroup/group.com.example.chat.shared/shared.db": "group db",
		"device/var/mobile/Containers/Data/PluginKitPlugin/com.example.chat.widget/w.plist":    "widget",
	}
	for p, want := range cases {
		got, errno := readNode(t, mustResolve(t, root, p))
		if errno != 0 || string(got) != want {
			t.Errorf("%s: %q (%v), want %q", p, got, errno, want)
		}
	}
	// A folder beats a file of the same name.
	if _, ok := mustResolve(t, root, "device/var/mobile/Library/SMS").(*deviceDir); !ok {
		t.Errorf("device/var/mobile/Library/SMS is not a folder")
	}
	got := listNames(t, mustResolve(t, root, "device/var/mobile").(dirNode))
	if want := []string{"Containers", "Library", "Media"}; !slices.Equal(got, want) {
		t.Errorf("device/var/mobile lists %q, want %q", got, want)
	}
	got = listNames(t, mustResolve(t, root, "device/var/mobile/Library").(dirNode))
	want := []string{"Health", "Preferences", "SMS", "escape", "missing.txt", "rel-link", "same-as-media.txt", "sms-link"}
	if !slices.Equal(got, want) {
		t.Errorf("device/var/mobile/Library lists %q\nwant %q", got, want)
	}
	got = listNames(t, mustResolve(t, root, "device/var").(dirNode))
	if want := []string{"mobile", "root"}; !slices.Equal(got, want) {
		t.Errorf("device/var lists %q, want %q", got, want)
	}
	// Unplaced and unshowable domains are not on the device.
	if resolvePath(t, root, "device/var/mobile/Containers/Data/Application/..") != nil {
		t.Errorf("AppDomain-.. shows under device/")
	}
	// The merged folder counts its subfolders.
	a := attrOf(mustResolve(t, root, "device/var/mobile/Library"))
	if a.Nlink != 2+3 {
		t.Errorf("device/var/mobile/Library nlink %d, want 5 (Health, Preferences, SMS)", a.Nlink)
	}
	// Listing and lookup agree on every name.
	walk(t, root, "", func(p string, n node) {})
}

// walk visits every node below d, checking that what a listing says (type, inode)
// matches what a lookup returns.
func walk(t *testing.T, d dirNode, p string, visit func(p string, n node)) {
	t.Helper()
	c := d.cursor()
	for {
		name, n := c.next()
		if n == nil {
			return
		}
		cp := path.Join(p, name)
		l := d.resolve(name)
		if l == nil {
			t.Errorf("%s: listed but not found", cp)
			continue
		}
		if n.stable() != l.stable() {
			t.Errorf("%s: listing says %+v, lookup %+v", cp, n.stable(), l.stable())
		}
		if a := attrOf(l); a.Mode&syscall.S_IFMT != l.stable().Mode {
			t.Errorf("%s: attr type %o, stable %o", cp, a.Mode, l.stable().Mode)
		}
		visit(cp, l)
		if sub, ok := l.(dirNode); ok {
			walk(t, sub, cp, visit)
		}
	}
}

func TestAppsView(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	got := listNames(t, mustResolve(t, root, "apps").(dirNode))
	want := []string{"Chat (com.example.chat)", "Chat (com.other)", "Example_Tool", "group.org.orphan"}
	if !slices.Equal(got, want) {
		t.Fatalf("apps/ lists %q\nwant %q", got, want)
	}
	if got := listNames(t, mustResolve(t, root, "apps/Chat (com.example.chat)").(dirNode)); !slices.Equal(got, []string{"data", "groups", "plugins"}) {
		t.Errorf("chat app folder lists %q", got)
	}
	for p, want := range map[string]string{
		"apps/Chat (com.example.chat)/data/Documents/chat.db":                         "chat db",
		"apps/Chat (com.example.chat)/groups/group.com.example.chat.shared/shared.db": "group db",
		"apps/Chat (com.example.chat)/plugins/com.example.chat.widget/w.plist":        "widget",
		"apps/Example_Tool/plugins/com.example.tool/t.plist":                          "tool",
		"apps/Example_Tool/data/Documents/x":                                          "short prefix app",
		"apps/group.org.orphan/groups/group.org.orphan/o.txt":                         "orphan",
		"apps/Chat (com.other)/data/Documents/y":                                      "other chat",
	} {
		got, errno := readNode(t, mustResolve(t, root, p))
		if errno != 0 || string(got) != want {
			t.Errorf("%s: %q (%v), want %q", p, got, errno, want)
		}
	}
	// The longest prefix wins: the widget is chat's, not com.example's.
	if resolvePath(t, root, "apps/Example_Tool/plugins/com.example.chat.widget") != nil {
		t.Errorf("com.example claimed com.example.chat's plugin")
	}
	if got := listNames(t, mustResolve(t, root, "apps/group.org.orphan").(dirNode)); !slices.Equal(got, []string{"groups"}) {
		t.Errorf("orphan group folder lists %q", got)
	}
}

func TestPhotosView(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	if got := listNames(t, mustResolve(t, root, "photos").(dirNode)); !slices.Equal(got, []string{"100APPLE"}) {
		t.Fatalf("photos/ lists %q", got)
	}
	if got := listNames(t, mustResolve(t, root, "photos/100APPLE").(dirNode)); !slices.Equal(got, []string{"IMG_0001.HEIC", "IMG_0002.JPG"}) {
		t.Fatalf("photos/100APPLE lists %q", got)
	}
	// No camera roll: an empty folder, not an error.
	src := newFixture("b")
	var entries []manifest.Entry
	for i := int32(0); i < int32(src.ix.Len()); i++ {
		if e := src.ix.Entry(i); e.Domain != "CameraRollDomain" {
			entries = append(entries, *e)
		}
	}
	src.ix, _ = manifest.NewIndex(entries)
	root, _ = newTestRoot(t, Options{}, Backup{Source: src})
	if got := listNames(t, mustResolve(t, root, "photos").(dirNode)); len(got) != 0 {
		t.Errorf("photos/ without camera roll lists %q", got)
	}
}

// The same file is the same inode in every view, and its link count says in how many.
func TestInodesSharedAcrossViews(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	groups := [][]string{
		{"domains/HomeDomain/Library/SMS/sms.db", "device/var/mobile/Library/SMS/sms.db"},
		{"domains/AppDomain-com.example.chat/Documents/chat.db", "apps/Chat (com.example.chat)/data/Documents/chat.db",
			"device/var/mobile/Containers/Data/Application/com.example.chat/Documents/chat.db"},
		{"domains/CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.HEIC", "photos/100APPLE/IMG_0001.HEIC",
			"device/var/mobile/Media/DCIM/100APPLE/IMG_0001.HEIC"},
		{"domains/HealthDomain/Health/conflict.txt", "device/var/mobile/Library/Health/conflict.txt"},
		{"domains/HomeDomain/Library/Health/conflict.txt"}, // lost the device/ clash
		{"domains/KeyboardDomain/Library/SMS"},             // a file that lost to a folder
		{"domains/WeirdDomain/thing"},
	}
	seen := map[uint64]string{}
	for _, g := range groups {
		first := attrOf(mustResolve(t, root, g[0]))
		for _, p := range g {
			a := attrOf(mustResolve(t, root, p))
			if a.Ino != first.Ino {
				t.Errorf("%s: ino %d differs from %s's %d", p, a.Ino, g[0], first.Ino)
			}
			if int(a.Nlink) != len(g) {
				t.Errorf("%s: nlink %d, want %d", p, a.Nlink, len(g))
			}
		}
		if other, dup := seen[first.Ino]; dup {
			t.Errorf("%s and %s share inode %d", g[0], other, first.Ino)
		}
		seen[first.Ino] = g[0]
	}
	// Folders have one inode per view.
	a := attrOf(mustResolve(t, root, "domains/HomeDomain/Library/SMS"))
	b := attrOf(mustResolve(t, root, "device/var/mobile/Library/SMS"))
	if a.Ino == b.Ino {
		t.Errorf("a folder shares its inode across views")
	}
	// No two distinct paths of the whole tree share an inode unless they are one file.
	byIno := map[uint64]string{}
	walk(t, root, "", func(p string, n node) {
		ino := n.stable().Ino
		if ino <= 1 {
			t.Errorf("%s: reserved inode %d", p, ino)
		}
		prev, dup := byIno[ino]
		if !dup {
			byIno[ino] = p
			return
		}
		f1, ok1 := n.(*fileNode)
		f2, ok2 := resolvePath(t, root, prev).(*fileNode)
		if !ok1 || !ok2 || f1.idx != f2.idx {
			t.Errorf("%s and %s share inode %d", p, prev, ino)
		}
	})
}

// Inode numbers depend only on the backup and the name: the same across remounts,
// different for another backup.
func TestInodesStable(t *testing.T) {
	p := "domains/HomeDomain/Library/SMS/sms.db"
	r1, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	r2, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	r3, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("another")})
	i1, i2, i3 := attrOf(mustResolve(t, r1, p)).Ino, attrOf(mustResolve(t, r2, p)).Ino, attrOf(mustResolve(t, r3, p)).Ino
	if i1 != i2 {
		t.Errorf("remount changed the inode: %d, %d", i1, i2)
	}
	if i1 == i3 {
		t.Errorf("two backups share inode %d", i1)
	}
	d1 := attrOf(mustResolve(t, r1, "device/var/mobile")).Ino
	d2 := attrOf(mustResolve(t, r2, "device/var/mobile")).Ino
	if d1 != d2 {
		t.Errorf("remount changed a folder's inode")
	}
}

// Every symlink, in every view it appears in and at every level, resolves inside the
// mount to the file the device path names.
func TestSymlinksResolveInsideDevice(t *testing.T) {
	for _, multi := range []bool{false, true} {
		var root *Root
		prefix := ""
		if multi {
			root, _ = newTestRoot(t, Options{}, Backup{Source: newFixture("one")}, Backup{Source: newFixture("two")})
			prefix = "two/"
		} else {
			root, _ = newTestRoot(t, Options{}, Backup{Source: newFixture("one")})
		}
		want := map[string]string{ // link entry -> device path of the target
			"HomeDomain/Library/sms-link":               "/var/mobile/Library/SMS/sms.db",
			"HomeDomain/Library/rel-link":               "/var/mobile/Library/SMS/sms.db",
			"HomeDomain/Library/escape":                 "/etc/passwd",
			"AppDomain-com.example.chat/Library/to-sms": "/var/mobile/Library/SMS/sms.db",
		}
		links := 0
		walk(t, root, "", func(p string, n node) {
			l, ok := n.(*linkNode)
			if !ok || !strings.HasPrefix(p, prefix) {
				return
			}
			links++
			e := l.t.ix.Entry(l.idx)
			target, errno := l.Readlink(context.Background())
			if errno != 0 {
				t.Fatalf("%s: readlink: %v", p, errno)
			}
			if strings.HasPrefix(string(target), "/") {
				t.Errorf("%s -> %s: absolute", p, target)
			}
			if a := attrOf(l); a.Size != uint64(len(target)) {
				t.Errorf("%s: size %d, target %d bytes", p, a.Size, len(target))
			}
			resolved := path.Join(path.Dir(p), string(target))
			wantPath := prefix + "device" + want[e.Domain+"/"+e.Path]
			if resolved != wantPath {
				t.Errorf("%s -> %s resolves to %s, want %s", p, target, resolved, wantPath)
			}
			if strings.HasPrefix(resolved, "..") {
				t.Errorf("%s -> %s leaves the mount", p, target)
			}
		})
		// Each HomeDomain link shows in domains/ and device/; the app's in 3 views.
		if links != 3*2+3 {
			t.Errorf("multi=%v: saw %d symlinks, want 9", multi, links)
		}
	}
	raw, _ := newTestRoot(t, Options{RawSymlinks: true}, Backup{Source: newFixture("one")})
	l := mustResolve(t, raw, "apps/Chat (com.example.chat)/data/Library/to-sms").(*linkNode)
	if got, _ := l.Readlink(context.Background()); string(got) != "/var/mobile/Library/SMS/sms.db" {
		t.Errorf("RawSymlinks: %q", got)
	}
	l2 := mustResolve(t, raw, "device/var/mobile/Containers/Data/Application/com.example.chat/Library/to-sms")
	if l.stable().Ino != l2.stable().Ino || attrOf(l).Nlink != 3 {
		t.Errorf("raw symlinks should share one inode across views (nlink %d)", attrOf(l).Nlink)
	}
}

func TestRelativePath(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"domains/HomeDomain/Library", "device/var/mobile/x", "../../../device/var/mobile/x"},
		{"device/var/mobile/Library", "device/var/mobile/Library/SMS/sms.db", "SMS/sms.db"},
		{"device/var/mobile/Library", "device/var/mobile/x", "../x"},
		{"device/var", "device/var", "."},
		{".", "device", "device"},
		{"photos", "device/var", "../device/var"},
	} {
		if got := relativePath(c.from, c.to); got != c.want {
			t.Errorf("relativePath(%q, %q) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}

func TestXAttrs(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	if !root.HasXAttrs() {
		t.Fatalf("HasXAttrs false with xattrs in the backup")
	}
	n := mustResolve(t, root, "device/var/mobile/Library/SMS/sms.db").(*fileNode)
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
	if xattrPrefix != "" {
		if _, errno := n.Getxattr(ctx, "com.apple.quarantine", buf); errno != errNoAttr {
			t.Errorf("unprefixed name answered: %v", errno)
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
	other := mustResolve(t, root, "domains/HomeDomain/Library/Preferences/com.apple.springboard.plist").(*fileNode)
	if sz, errno := other.Listxattr(ctx, buf); sz != 0 || errno != 0 {
		t.Errorf("no xattrs: list %d, %v", sz, errno)
	}
	dir := mustResolve(t, root, "apps")
	if _, errno := dir.(*virtualDir).Getxattr(ctx, name, buf); errno != errNoAttr {
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
	root, logs := newTestRoot(t, Options{}, Backup{Source: src})
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
	root, logs := newTestRoot(t, Options{}, Backup{Source: src})
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

func (s *failingSource) OpenFile(e *manifest.Entry) (File, error) {
	f, err := s.fakeSource.OpenFile(e)
	if err != nil || e.Path != "Library/SMS/sms.db" {
		return f, err
	}
	return failingFile{f}, nil
}

type failingFile struct{ File }

func (failingFile) ReadAt(p []byte, off int64) (int, error) {
	return 0, errors.New("HomeDomain/Library/SMS/sms.db: bad padding")
}

func TestMultiBackup(t *testing.T) {
	root, _ := newTestRoot(t, Options{},
		Backup{Source: newFixture("iPhone 2024-05-01 10.00")},
		Backup{Source: newFixture("iPhone 2024-05-01 10.00")},
		Backup{Name: "Locked iPad", Err: errors.New("wrong password")},
		Backup{Source: newFixture("Old/Phone")},
	)
	got := listNames(t, root)
	want := []string{"Locked iPad", "Old_Phone", "iPhone 2024-05-01 10.00", "iPhone 2024-05-01 10.00 (2)"}
	if !slices.Equal(got, want) {
		t.Fatalf("root lists %q, want %q", got, want)
	}
	if got := listNames(t, mustResolve(t, root, "Locked iPad").(dirNode)); !slices.Equal(got, []string{"README.txt"}) {
		t.Errorf("locked folder lists %q", got)
	}
	note := mustResolve(t, root, "Locked iPad/README.txt").(*noteFile)
	res, errno := note.Read(context.Background(), nil, make([]byte, 4096), 0)
	text, _ := res.Bytes(nil)
	if errno != 0 || !strings.Contains(string(text), "wrong password") || attrOf(note).Size != uint64(len(text)) {
		t.Errorf("note %q (%v), size %d", text, errno, attrOf(note).Size)
	}
	p := "domains/HomeDomain/Library/SMS/sms.db"
	a := attrOf(mustResolve(t, root, "iPhone 2024-05-01 10.00/"+p)).Ino
	b := attrOf(mustResolve(t, root, "iPhone 2024-05-01 10.00 (2)/"+p)).Ino
	if a == b {
		t.Errorf("two backups with the same name share inodes")
	}
	got2, errno := readNode(t, mustResolve(t, root, "Old_Phone/photos/100APPLE/IMG_0002.JPG"))
	if errno != 0 || string(got2) != "jpeg two" {
		t.Errorf("read in a multi mount: %q %v", got2, errno)
	}

	// A single backup that did not open: the note at the top.
	one, _ := newTestRoot(t, Options{}, Backup{Name: "x", Err: errors.New("no key")})
	if got := listNames(t, one); !slices.Equal(got, []string{"README.txt"}) {
		t.Errorf("single failed backup lists %q", got)
	}
}

// Every write-like operation answers EROFS on every kind of node.
func TestReadOnlyNodes(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")}, Backup{Name: "bad", Err: errors.New("x")})
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
		if _, isDir := n.(dirNode); isDir {
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
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
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
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	d := mustResolve(t, root, "device/var/mobile/Library").(dirNode)
	fh, flags, _ := openDir(d)
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

// Opening a folder looks up the sizes of its files and, in the background, those of its
// subfolders' files, each once: the attributes a listing then asks for cost nothing more.
func TestOpendirWarmsSizes(t *testing.T) {
	src := newFixture("b")
	root, _ := newTestRoot(t, Options{}, Backup{Source: src})
	const dir = "Library/"
	var want []fixtureEntry // files of HomeDomain/Library and of its subfolders
	for _, f := range fixtureEntries() {
		rest, ok := strings.CutPrefix(f.path, dir)
		if ok && f.domain == "HomeDomain" && f.kind == manifest.KindFile && strings.Count(rest, "/") <= 1 {
			want = append(want, f)
		}
	}
	if len(want) < 4 {
		t.Fatalf("fixture has %d files under HomeDomain/%s, want a few at two depths", len(want), dir)
	}
	lib := mustResolve(t, root, "domains/HomeDomain/Library").(*entryDir)
	for range 2 { // the second open finds everything cached
		if _, _, errno := lib.OpendirHandle(context.Background(), 0); errno != 0 {
			t.Fatalf("opendir: %v", errno)
		}
	}
	for i := 0; src.sizes.Load() < int64(len(want)) && i < 500; i++ {
		time.Sleep(10 * time.Millisecond) // the subfolders are warmed in the background
	}
	if got := src.sizes.Load(); got != int64(len(want)) {
		t.Fatalf("FileSize called %d times after opening the folder, want %d (once per file)", got, len(want))
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
