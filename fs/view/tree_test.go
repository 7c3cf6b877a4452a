package view

import (
	"bytes"
	"errors"
	"io"
	"log"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"iosbackup/manifest"
)

// resolvePath walks a slash-separated path from d the way the kernel's lookups would.
func resolvePath(t *testing.T, d Dir, p string) Node {
	t.Helper()
	var cur Node = d
	for _, c := range strings.Split(p, "/") {
		if c == "" {
			continue
		}
		dir, ok := cur.(Dir)
		if !ok {
			t.Fatalf("%s: %q is not a directory", p, c)
		}
		if cur = dir.Lookup(c); cur == nil {
			return nil
		}
	}
	return cur
}

func mustResolve(t *testing.T, d Dir, p string) Node {
	t.Helper()
	n := resolvePath(t, d, p)
	if n == nil {
		t.Fatalf("%s: not found", p)
	}
	return n
}

func listNames(t *testing.T, d Dir) []string {
	t.Helper()
	var names []string
	c := d.List()
	for {
		name, n := c.Next()
		if n == nil {
			return names
		}
		names = append(names, name)
	}
}

func attrOf(n Node) Attr { return n.Attr() }

// readNode reads a file in small pieces, to exercise offsets.
func readNode(t *testing.T, n Node) ([]byte, error) {
	t.Helper()
	f, ok := n.(File)
	if !ok {
		t.Fatalf("%T is not a file", n)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []byte
	buf := make([]byte, 7)
	for off := int64(0); ; {
		k, err := r.ReadAt(buf, off)
		out = append(out, buf[:k]...)
		off += int64(k)
		if err == io.EOF || (err == nil && k == 0) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func newTestRoot(t *testing.T, opt Options, backups ...Backup) (*Root, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	opt.Logger = log.New(&logs, "", 0)
	return New(opt, backups...), &logs
}

func TestTopLevel(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("iPhone 2024-05-01 10.00")})
	if got, want := listNames(t, root.Dir()), []string{"apps", "device", "domains", "photos"}; !slices.Equal(got, want) {
		t.Fatalf("root lists %q, want %q", got, want)
	}
	doms := listNames(t, mustResolve(t, root.Dir(), "domains").(Dir))
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
		n := resolvePath(t, root.Dir(), p)
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
		wantKind := map[manifest.Kind]Kind{manifest.KindFile: KindFile, manifest.KindDir: KindDir, manifest.KindSymlink: KindSymlink}[e.Kind]
		if a.Kind != wantKind || a.Perm != e.Perm() {
			t.Errorf("%s: kind %v mode %o, want %v %o", p, a.Kind, a.Perm, wantKind, e.Perm())
		}
		if !e.Synthetic && (a.MTime != e.MTime || a.CTime != e.CTime) {
			t.Errorf("%s: mtime/ctime %d/%d, want %d/%d", p, a.MTime, a.CTime, e.MTime, e.CTime)
		}
		if attrOf(n).Birth != e.Birth && !e.Synthetic {
			t.Errorf("%s: birth %d, want %d", p, attrOf(n).Birth, e.Birth)
		}
		if a.Ino <= 1 || a.Ino != n.Ino() {
			t.Errorf("%s: ino %d, stable %d", p, a.Ino, n.Ino())
		}
		if e.Kind == manifest.KindFile {
			want, err := src.blob(e)
			got, errno := readNode(t, n)
			if err != nil {
				if errno == nil || a.Size != 0 {
					t.Errorf("%s: missing blob: size %d, read errno %v; want 0, EIO", p, a.Size, errno)
				}
				continue
			}
			if errno != nil || !bytes.Equal(got, want) || a.Size != int64(len(want)) {
				t.Errorf("%s: read %q (%v), size %d; want %q", p, got, errno, a.Size, want)
			}
		}
	}
	// The long name is not listed.
	for _, name := range listNames(t, mustResolve(t, root.Dir(), "domains/HomeDomain/Library").(Dir)) {
		if len(name) > 255 {
			t.Errorf("listed a %d-byte name", len(name))
		}
	}
}

func TestOwners(t *testing.T) {
	src := newFixture("b")
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	root, _ := newTestRoot(t, Options{}, Backup{Source: src})
	a := attrOf(mustResolve(t, root.Dir(), "domains/HomeDomain/Library/SMS/sms.db"))
	if a.UID != uid || a.GID != gid {
		t.Errorf("default owner %d:%d, want the mounting user %d:%d", a.UID, a.GID, uid, gid)
	}
	root, _ = newTestRoot(t, Options{DeviceOwners: true}, Backup{Source: src})
	a = attrOf(mustResolve(t, root.Dir(), "domains/HomeDomain/Library/SMS/sms.db"))
	if a.UID != 501 || a.GID != 501 {
		t.Errorf("DeviceOwners: owner %d:%d, want 501:501", a.UID, a.GID)
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
		got, errno := readNode(t, mustResolve(t, root.Dir(), p))
		if errno != nil || string(got) != want {
			t.Errorf("%s: %q (%v), want %q", p, got, errno, want)
		}
	}
	// A folder beats a file of the same name.
	if _, ok := mustResolve(t, root.Dir(), "device/var/mobile/Library/SMS").(*deviceDir); !ok {
		t.Errorf("device/var/mobile/Library/SMS is not a folder")
	}
	got := listNames(t, mustResolve(t, root.Dir(), "device/var/mobile").(Dir))
	if want := []string{"Containers", "Library", "Media"}; !slices.Equal(got, want) {
		t.Errorf("device/var/mobile lists %q, want %q", got, want)
	}
	got = listNames(t, mustResolve(t, root.Dir(), "device/var/mobile/Library").(Dir))
	want := []string{"Health", "Preferences", "SMS", "escape", "missing.txt", "rel-link", "same-as-media.txt", "sms-link"}
	if !slices.Equal(got, want) {
		t.Errorf("device/var/mobile/Library lists %q\nwant %q", got, want)
	}
	got = listNames(t, mustResolve(t, root.Dir(), "device/var").(Dir))
	if want := []string{"mobile", "root"}; !slices.Equal(got, want) {
		t.Errorf("device/var lists %q, want %q", got, want)
	}
	// Unplaced and unshowable domains are not on the device.
	if resolvePath(t, root.Dir(), "device/var/mobile/Containers/Data/Application/..") != nil {
		t.Errorf("AppDomain-.. shows under device/")
	}
	// The merged folder counts its subfolders.
	a := attrOf(mustResolve(t, root.Dir(), "device/var/mobile/Library"))
	if a.Nlink != 2+3 {
		t.Errorf("device/var/mobile/Library nlink %d, want 5 (Health, Preferences, SMS)", a.Nlink)
	}
	// Listing and lookup agree on every name.
	walk(t, root.Dir(), "", func(p string, n Node) {})
}

// walk visits every node below d, checking that what a listing says (type, inode)
// matches what a lookup returns.
func walk(t *testing.T, d Dir, p string, visit func(p string, n Node)) {
	t.Helper()
	c := d.List()
	for {
		name, n := c.Next()
		if n == nil {
			return
		}
		cp := path.Join(p, name)
		l := d.Lookup(name)
		if l == nil {
			t.Errorf("%s: listed but not found", cp)
			continue
		}
		if n.Ino() != l.Ino() || n.Kind() != l.Kind() {
			t.Errorf("%s: listing says %d/%v, lookup %d/%v", cp, n.Ino(), n.Kind(), l.Ino(), l.Kind())
		}
		if a := attrOf(l); a.Kind != l.Kind() || a.Ino != l.Ino() {
			t.Errorf("%s: attr %d/%v, node %d/%v", cp, a.Ino, a.Kind, l.Ino(), l.Kind())
		}
		visit(cp, l)
		if sub, ok := l.(Dir); ok {
			walk(t, sub, cp, visit)
		}
	}
}

func TestAppsView(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	got := listNames(t, mustResolve(t, root.Dir(), "apps").(Dir))
	want := []string{"Chat (com.example.chat)", "Chat (com.other)", "Example_Tool", "group.org.orphan"}
	if !slices.Equal(got, want) {
		t.Fatalf("apps/ lists %q\nwant %q", got, want)
	}
	if got := listNames(t, mustResolve(t, root.Dir(), "apps/Chat (com.example.chat)").(Dir)); !slices.Equal(got, []string{"data", "groups", "plugins"}) {
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
		got, errno := readNode(t, mustResolve(t, root.Dir(), p))
		if errno != nil || string(got) != want {
			t.Errorf("%s: %q (%v), want %q", p, got, errno, want)
		}
	}
	// The longest prefix wins: the widget is chat's, not com.example's.
	if resolvePath(t, root.Dir(), "apps/Example_Tool/plugins/com.example.chat.widget") != nil {
		t.Errorf("com.example claimed com.example.chat's plugin")
	}
	if got := listNames(t, mustResolve(t, root.Dir(), "apps/group.org.orphan").(Dir)); !slices.Equal(got, []string{"groups"}) {
		t.Errorf("orphan group folder lists %q", got)
	}
}

func TestPhotosView(t *testing.T) {
	root, _ := newTestRoot(t, Options{}, Backup{Source: newFixture("b")})
	if got := listNames(t, mustResolve(t, root.Dir(), "photos").(Dir)); !slices.Equal(got, []string{"100APPLE"}) {
		t.Fatalf("photos/ lists %q", got)
	}
	if got := listNames(t, mustResolve(t, root.Dir(), "photos/100APPLE").(Dir)); !slices.Equal(got, []string{"IMG_0001.HEIC", "IMG_0002.JPG"}) {
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
	if got := listNames(t, mustResolve(t, root.Dir(), "photos").(Dir)); len(got) != 0 {
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
		first := attrOf(mustResolve(t, root.Dir(), g[0]))
		for _, p := range g {
			a := attrOf(mustResolve(t, root.Dir(), p))
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
	a := attrOf(mustResolve(t, root.Dir(), "domains/HomeDomain/Library/SMS"))
	b := attrOf(mustResolve(t, root.Dir(), "device/var/mobile/Library/SMS"))
	if a.Ino == b.Ino {
		t.Errorf("a folder shares its inode across views")
	}
	// No two distinct paths of the whole tree share an inode unless they are one file.
	byIno := map[uint64]string{}
	walk(t, root.Dir(), "", func(p string, n Node) {
		ino := n.Ino()
		if ino <= 1 {
			t.Errorf("%s: reserved inode %d", p, ino)
		}
		prev, dup := byIno[ino]
		if !dup {
			byIno[ino] = p
			return
		}
		f1, ok1 := n.(*fileNode)
		f2, ok2 := resolvePath(t, root.Dir(), prev).(*fileNode)
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
	i1, i2, i3 := attrOf(mustResolve(t, r1.Dir(), p)).Ino, attrOf(mustResolve(t, r2.Dir(), p)).Ino, attrOf(mustResolve(t, r3.Dir(), p)).Ino
	if i1 != i2 {
		t.Errorf("remount changed the inode: %d, %d", i1, i2)
	}
	if i1 == i3 {
		t.Errorf("two backups share inode %d", i1)
	}
	d1 := attrOf(mustResolve(t, r1.Dir(), "device/var/mobile")).Ino
	d2 := attrOf(mustResolve(t, r2.Dir(), "device/var/mobile")).Ino
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
		walk(t, root.Dir(), "", func(p string, n Node) {
			l, ok := n.(*linkNode)
			if !ok || !strings.HasPrefix(p, prefix) {
				return
			}
			links++
			e := l.t.ix.Entry(l.idx)
			target := l.Target()
			if strings.HasPrefix(string(target), "/") {
				t.Errorf("%s -> %s: absolute", p, target)
			}
			if a := attrOf(l); a.Size != int64(len(target)) {
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
	l := mustResolve(t, raw.Dir(), "apps/Chat (com.example.chat)/data/Library/to-sms").(*linkNode)
	if got := l.Target(); got != "/var/mobile/Library/SMS/sms.db" {
		t.Errorf("RawSymlinks: %q", got)
	}
	l2 := mustResolve(t, raw.Dir(), "device/var/mobile/Containers/Data/Application/com.example.chat/Library/to-sms")
	if l.Ino() != l2.Ino() || attrOf(l).Nlink != 3 {
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

func TestMissingBlobLogsOnce(t *testing.T) {
	src := newFixture("b")
	root, logs := newTestRoot(t, Options{}, Backup{Source: src})
	p := "domains/HomeDomain/Library/missing.txt"
	n := mustResolve(t, root.Dir(), p)
	if a := attrOf(n); a.Size != 0 || a.Kind != KindFile {
		t.Errorf("missing blob listed as %+v", a)
	}
	for i := 0; i < 3; i++ {
		if _, errno := readNode(t, mustResolve(t, root.Dir(), "device/var/mobile/Library/missing.txt")); errno == nil {
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
	_, errno := readNode(t, mustResolve(t, root.Dir(), "domains/HomeDomain/Library/SMS/sms.db"))
	if errno == nil {
		t.Errorf("damaged read: %v, want EIO", errno)
	}
	if !strings.Contains(logs.String(), "bad padding") {
		t.Errorf("log %q lacks the reader's error", logs.String())
	}
	if got, errno := readNode(t, mustResolve(t, root.Dir(), "photos/100APPLE/IMG_0001.HEIC")); errno != nil || string(got) != "heic one" {
		t.Errorf("other file: %q %v", got, errno)
	}
}

type failingSource struct{ *fakeSource }

func (s *failingSource) OpenFile(e *manifest.Entry) (Reader, error) {
	f, err := s.fakeSource.OpenFile(e)
	if err != nil || e.Path != "Library/SMS/sms.db" {
		return f, err
	}
	return failingFile{f}, nil
}

type failingFile struct{ Reader }

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
	got := listNames(t, root.Dir())
	want := []string{"Locked iPad", "Old_Phone", "iPhone 2024-05-01 10.00", "iPhone 2024-05-01 10.00 (2)"}
	if !slices.Equal(got, want) {
		t.Fatalf("root lists %q, want %q", got, want)
	}
	if got := listNames(t, mustResolve(t, root.Dir(), "Locked iPad").(Dir)); !slices.Equal(got, []string{"README.txt"}) {
		t.Errorf("locked folder lists %q", got)
	}
	note := mustResolve(t, root.Dir(), "Locked iPad/README.txt").(*noteFile)
	text, errno := readNode(t, note)
	if errno != nil || !strings.Contains(string(text), "wrong password") || attrOf(note).Size != int64(len(text)) {
		t.Errorf("note %q (%v), size %d", text, errno, attrOf(note).Size)
	}
	p := "domains/HomeDomain/Library/SMS/sms.db"
	a := attrOf(mustResolve(t, root.Dir(), "iPhone 2024-05-01 10.00/"+p)).Ino
	b := attrOf(mustResolve(t, root.Dir(), "iPhone 2024-05-01 10.00 (2)/"+p)).Ino
	if a == b {
		t.Errorf("two backups with the same name share inodes")
	}
	got2, errno := readNode(t, mustResolve(t, root.Dir(), "Old_Phone/photos/100APPLE/IMG_0002.JPG"))
	if errno != nil || string(got2) != "jpeg two" {
		t.Errorf("read in a multi mount: %q %v", got2, errno)
	}

	// A single backup that did not open: the note at the top.
	one, _ := newTestRoot(t, Options{}, Backup{Name: "x", Err: errors.New("no key")})
	if got := listNames(t, one.Dir()); !slices.Equal(got, []string{"README.txt"}) {
		t.Errorf("single failed backup lists %q", got)
	}
}

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
	lib := mustResolve(t, root.Dir(), "domains/HomeDomain/Library").(*entryDir)
	for range 2 { // the second open finds everything cached
		lib.Prefetch()
	}
	for i := 0; src.sizes.Load() < int64(len(want)) && i < 500; i++ {
		time.Sleep(10 * time.Millisecond) // the subfolders are warmed in the background
	}
	if got := src.sizes.Load(); got != int64(len(want)) {
		t.Fatalf("FileSize called %d times after opening the folder, want %d (once per file)", got, len(want))
	}
	for _, f := range want {
		n := resolvePath(t, root.Dir(), "domains/HomeDomain/"+f.path)
		if n == nil {
			continue // a name the mount cannot show
		}
		if a := attrOf(n); a.Size != int64(len(f.data)) {
			t.Errorf("%s: size %d, want %d", f.path, a.Size, len(f.data))
		}
	}
	if got := src.sizes.Load(); got != int64(len(want)) {
		t.Errorf("stat after the warm-up called FileSize %d more times", got-int64(len(want)))
	}
}
