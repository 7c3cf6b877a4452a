//go:build !windows

package fuse

import (
	"bytes"
	"fmt"
	"sync/atomic"

	"iosbackup/fs/view"
	"iosbackup/manifest"
)

// fakeSource is an in-memory backup: entries plus contents keyed by "domain/path".
// A file without contents behaves like a missing blob.
type fakeSource struct {
	name  string
	ix    *manifest.Index
	data  map[string][]byte
	apps  map[string]string
	opens atomic.Int64
	sizes atomic.Int64
}

func (s *fakeSource) Index() *manifest.Index { return s.ix }
func (s *fakeSource) Name() string           { return s.name }

func (s *fakeSource) AppName(bundleID string) string {
	if n, ok := s.apps[bundleID]; ok {
		return n
	}
	return bundleID
}

func (s *fakeSource) blob(e *manifest.Entry) ([]byte, error) {
	b, ok := s.data[e.Domain+"/"+e.Path]
	if !ok {
		return nil, fmt.Errorf("%s/%s (/backup/%s/%s): file contents missing from backup",
			e.Domain, e.Path, e.ID.String()[:2], e.ID)
	}
	return b, nil
}

func (s *fakeSource) OpenFile(e *manifest.Entry) (view.Reader, error) {
	s.opens.Add(1)
	b, err := s.blob(e)
	if err != nil {
		return nil, err
	}
	return &memFile{bytes.NewReader(b), int64(len(b))}, nil
}

func (s *fakeSource) FileSize(e *manifest.Entry) (int64, error) {
	s.sizes.Add(1)
	b, err := s.blob(e)
	return int64(len(b)), err
}

type memFile struct {
	*bytes.Reader
	size int64
}

func (m *memFile) Size() int64  { return m.size }
func (m *memFile) Close() error { return nil }

// fixture is a small backup with every situation the views must handle: merged
// domains, conflicts, containers, groups and plugins, photos, symlinks, xattrs, a
// missing blob, names that cannot be shown.
type fixtureEntry struct {
	domain, path string
	kind         manifest.Kind
	data         string // files
	target       string // symlinks
	mode         uint32 // permission bits (0: 0644 / 0755)
	xattrs       map[string][]byte
	missing      bool
}

var longName = string(bytes.Repeat([]byte("a"), 300))

func fixtureEntries() []fixtureEntry {
	F, D, L := manifest.KindFile, manifest.KindDir, manifest.KindSymlink
	return []fixtureEntry{
		{domain: "HomeDomain", path: "", kind: D},
		{domain: "HomeDomain", path: "Library", kind: D},
		{domain: "HomeDomain", path: "Library/SMS", kind: D, mode: 0o700},
		{domain: "HomeDomain", path: "Library/SMS/sms.db", kind: F, data: "SQLite format 3\x00home sms", mode: 0o600,
			xattrs: map[string][]byte{"com.apple.metadata:kMDItemWhereFroms": []byte("where"), "com.apple.quarantine": []byte("q")}},
		{domain: "HomeDomain", path: "Library/Preferences/com.apple.springboard.plist", kind: F, data: "bplist00springboard"},
		{domain: "HomeDomain", path: "Library/Health/conflict.txt", kind: F, data: "home loses"},
		{domain: "HomeDomain", path: "Library/missing.txt", kind: F, missing: true},
		{domain: "HomeDomain", path: "Library/" + longName, kind: F, data: "too long"},
		{domain: "HomeDomain", path: "Library/sms-link", kind: L, target: "/var/mobile/Library/SMS/sms.db"},
		{domain: "HomeDomain", path: "Library/rel-link", kind: L, target: "SMS/sms.db"},
		{domain: "HomeDomain", path: "Library/escape", kind: L, target: "../../../../../../../etc/passwd"},
		{domain: "HomeDomain", path: "Library/same-as-media.txt", kind: F, data: "home wins (H < M)"},
		{domain: "MediaDomain", path: "Library/same-as-media.txt", kind: F, data: "media loses"},
		{domain: "MediaDomain", path: "Media/Recordings/a.m4a", kind: F, data: "m4a"},
		{domain: "KeyboardDomain", path: "Library/SMS", kind: F, data: "a file where Home has a folder"},
		{domain: "HealthDomain", path: "Health/conflict.txt", kind: F, data: "health wins (deeper)"},
		{domain: "HealthDomain", path: "Health/healthdb.sqlite", kind: F, data: "health db"},
		{domain: "BooksDomain", path: "Books.plist", kind: F, data: "books"},
		{domain: "CameraRollDomain", path: "Media/DCIM/100APPLE/IMG_0001.HEIC", kind: F, data: "heic one"},
		{domain: "CameraRollDomain", path: "Media/DCIM/100APPLE/IMG_0002.JPG", kind: F, data: "jpeg two"},
		{domain: "CameraRollDomain", path: "Media/PhotoData/Photos.sqlite", kind: F, data: "photos db"},
		{domain: "AppDomain-com.example.chat", path: "Documents/chat.db", kind: F, data: "chat db"},
		{domain: "AppDomain-com.example.chat", path: "Library/Preferences/com.example.chat.plist", kind: F, data: "prefs"},
		{domain: "AppDomain-com.example.chat", path: "Library/to-sms", kind: L, target: "/var/mobile/Library/SMS/sms.db"},
		{domain: "AppDomain-com.example", path: "Documents/x", kind: F, data: "short prefix app"},
		{domain: "AppDomain-com.other", path: "Documents/y", kind: F, data: "other chat"},
		{domain: "AppDomainGroup-group.com.example.chat.shared", path: "shared.db", kind: F, data: "group db"},
		{domain: "AppDomainPlugin-com.example.chat.widget", path: "w.plist", kind: F, data: "widget"},
		{domain: "AppDomainPlugin-com.example.tool", path: "t.plist", kind: F, data: "tool"},
		{domain: "AppDomainGroup-group.org.orphan", path: "o.txt", kind: F, data: "orphan"},
		{domain: "AppDomain-..", path: "evil", kind: F, data: "dotdot app"},
		{domain: "RootDomain", path: "Library/Caches/locationd/clients.plist", kind: F, data: "root"},
		{domain: "WeirdDomain", path: "thing", kind: F, data: "unplaced"},
	}
}

var fixtureApps = map[string]string{
	"com.example.chat": "Chat",
	"com.other":        "Chat",
	"com.example":      "Example/Tool",
}

func newFixture(name string) *fakeSource {
	var entries []manifest.Entry
	data := map[string][]byte{}
	for i, f := range fixtureEntries() {
		mode := f.mode
		if mode == 0 {
			mode = 0o644
			if f.kind == manifest.KindDir || f.kind == manifest.KindSymlink {
				mode = 0o755
			}
		}
		switch f.kind {
		case manifest.KindFile:
			mode |= 0o100000
		case manifest.KindDir:
			mode |= 0o040000
		case manifest.KindSymlink:
			mode |= 0o120000
		}
		entries = append(entries, manifest.Entry{
			Domain: f.domain, Path: f.path, ID: manifest.ComputeFileID(f.domain, f.path),
			Kind: f.kind, Mode: mode, UID: 501, GID: 501, Size: int64(len(f.data)),
			Birth: 1_600_000_000 + int64(i), MTime: 1_650_000_000 + int64(i), CTime: 1_660_000_000 + int64(i),
		})
		entries[len(entries)-1].SetExtra(f.target, nil, f.xattrs)
		if f.kind == manifest.KindFile && !f.missing {
			data[f.domain+"/"+f.path] = []byte(f.data)
		}
	}
	ix, _ := manifest.NewIndex(entries)
	return &fakeSource{name: name, ix: ix, data: data, apps: fixtureApps}
}
