package manifest

import (
	"fmt"
	"math/rand"
	"path"
	"sort"
	"strings"
	"testing"
)

// randomEntries builds a random manifest: nested paths over a small alphabet (so names
// collide and sort tricky: "a", "a-b", "a/b"), with some parent rows left out.
func randomEntries(r *rand.Rand, n int) []Entry {
	names := []string{"a", "a-b", "a.b", "b", "ab", "Z", "é", "a b"}
	var es []Entry
	for i := 0; i < n; i++ {
		domain := []string{"HomeDomain", "AppDomain-x", "MediaDomain"}[r.Intn(3)]
		depth := r.Intn(4)
		var parts []string
		for d := 0; d <= depth; d++ {
			parts = append(parts, names[r.Intn(len(names))])
		}
		p := strings.Join(parts, "/")
		if r.Intn(10) == 0 {
			p = ""
		}
		kind := KindDir
		if p != "" && r.Intn(2) == 0 {
			kind = KindFile
		}
		es = append(es, Entry{Domain: domain, Path: p, Kind: kind, Mode: 0o644, Inode: uint64(i)})
	}
	return es
}

func TestIndexAgainstBruteForce(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		r := rand.New(rand.NewSource(seed))
		in := randomEntries(r, 1+r.Intn(60))

		// Brute force: the first (domain, path) wins; a path survives if no ancestor was
		// first listed as a non-directory; every ancestor of a survivor exists.
		type key struct{ d, p string }
		firstKind := map[key]Kind{}
		var order []key
		for _, e := range in {
			k := key{e.Domain, e.Path}
			if _, ok := firstKind[k]; !ok {
				firstKind[k] = e.Kind
				order = append(order, k)
			}
		}
		want := map[key]bool{}
		for _, k := range order {
			ok := true
			for a := k.p; a != ""; {
				a = parentPath(a)
				if kd, listed := firstKind[key{k.d, a}]; listed && kd != KindDir && a != "" {
					ok = false
				}
				if a == "" {
					break
				}
			}
			if !ok {
				continue
			}
			want[k] = true
			for a := k.p; a != ""; {
				a = parentPath(a)
				want[key{k.d, a}] = true
			}
		}

		ix, st := NewIndex(append([]Entry(nil), in...))
		if ix.Len() != len(want) {
			t.Fatalf("seed %d: %d entries, want %d (stats %+v)", seed, ix.Len(), len(want), st)
		}
		for i := int32(0); i < int32(ix.Len()); i++ {
			e := ix.Entry(i)
			if !want[key{e.Domain, e.Path}] {
				t.Fatalf("seed %d: unexpected entry %s/%s", seed, e.Domain, e.Path)
			}
			if got, ok := ix.Lookup(e.Domain, e.Path); !ok || got != i {
				t.Fatalf("seed %d: Lookup(%s, %q) = %d, %v; want %d", seed, e.Domain, e.Path, got, ok, i)
			}
			p := ix.Parent(i)
			if e.Path == "" {
				if p != -1 {
					t.Fatalf("seed %d: root has parent", seed)
				}
				continue
			}
			pe := ix.Entry(p)
			if pe.Domain != e.Domain || pe.Path != parentPath(e.Path) || pe.Kind != KindDir {
				t.Fatalf("seed %d: parent of %q is %q (%v)", seed, e.Path, pe.Path, pe.Kind)
			}
			if got, ok := ix.LookupChild(p, ix.Name(i)); !ok || got != i {
				t.Fatalf("seed %d: LookupChild(%q, %q) = %d, %v", seed, pe.Path, ix.Name(i), got, ok)
			}
		}
		// Children are exactly the entries whose parent path is the dir, in name order.
		for i := int32(0); i < int32(ix.Len()); i++ {
			e := ix.Entry(i)
			var names []string
			for k := range want {
				if k.d == e.Domain && k.p != "" && parentPath(k.p) == e.Path && e.Kind == KindDir {
					names = append(names, path.Base(k.p))
				}
			}
			sort.Strings(names)
			var got []string
			for _, c := range ix.Children(i) {
				got = append(got, ix.Name(c))
			}
			if fmt.Sprint(got) != fmt.Sprint(names) {
				t.Fatalf("seed %d: children of %s/%q = %v, want %v", seed, e.Domain, e.Path, got, names)
			}
		}
		// Domains are sorted and each root is found.
		doms := ix.Domains()
		if !sort.StringsAreSorted(doms) {
			t.Fatalf("domains not sorted: %v", doms)
		}
		for _, d := range doms {
			if r, ok := ix.DomainRoot(d); !ok || ix.Entry(r).Path != "" {
				t.Fatalf("no root for %s", d)
			}
		}
	}
}

func TestIndexSynthesizesAndRejects(t *testing.T) {
	in := []Entry{
		{Domain: "HomeDomain", Path: "Library/SMS/sms.db", Kind: KindFile, Mode: 0o100644},
		{Domain: "HomeDomain", Path: "Library/SMS/sms.db", Kind: KindFile, Mode: 0o100600}, // duplicate
		{Domain: "HomeDomain", Path: "Library/file", Kind: KindFile},
		{Domain: "HomeDomain", Path: "Library/file/under-a-file", Kind: KindFile},
		{Domain: "HomeDomain", Path: "../etc/passwd", Kind: KindFile},
		{Domain: "HomeDomain", Path: "a//b", Kind: KindFile},
		{Domain: "HomeDomain", Path: "a/./b", Kind: KindFile},
		{Domain: "HomeDomain", Path: "/abs", Kind: KindFile},
		{Domain: "HomeDomain", Path: "nul\x00", Kind: KindFile},
		{Domain: "../x", Path: "f", Kind: KindFile},
		// Domains that are no folder name: "." would put its files over HomeDomain's.
		{Domain: ".", Path: "HomeDomain/Library/SMS/sms.db", Kind: KindFile},
		{Domain: "..", Path: "f", Kind: KindFile},
		{Domain: "", Path: "f", Kind: KindFile},
		{Domain: "a\x00b", Path: "f", Kind: KindFile},
	}
	ix, st := NewIndex(in)
	if st.Duplicates != 1 || st.Orphans != 1 || st.Invalid != 10 || st.Synthesized != 3 {
		t.Fatalf("stats = %+v", st)
	}
	// Each one is reported with its reason and names.
	if st.Dropped.Count(DropBadDomain) != 5 || st.Dropped.Count(DropBadPath) != 5 ||
		st.Dropped.Count(DropDuplicate) != 1 || st.Dropped.Count(DropBelowFile) != 1 || !st.Dropped.Complete() {
		t.Fatalf("dropped: %v", st.Dropped)
	}
	if d, ok := st.Dropped.Find(".", "HomeDomain/Library/SMS/sms.db"); !ok || d.Reason != DropBadDomain || d.FileID == "" {
		t.Fatalf("domain \".\" row: %+v %v", d, ok)
	}
	if d, ok := st.Dropped.Find("HomeDomain", "Library/file/under-a-file"); !ok || d.Reason != DropBelowFile || !strings.Contains(d.Detail, `"Library/file" is a file`) {
		t.Fatalf("orphan: %+v %v", d, ok)
	}
	for _, d := range ix.Domains() {
		if !ValidDomain(d) {
			t.Fatalf("domain %q indexed", d)
		}
	}
	i, ok := ix.Lookup("HomeDomain", "Library/SMS/sms.db")
	if !ok || ix.Entry(i).Mode != 0o100644 {
		t.Fatalf("lookup sms.db: %v %+v", ok, ix.Entry(i))
	}
	lib, _ := ix.Lookup("HomeDomain", "Library")
	if e := ix.Entry(lib); !e.Synthetic || e.Kind != KindDir || e.Mode != 0o040755 {
		t.Fatalf("Library not synthesized as dir: %+v", e)
	}
	if _, ok := ix.Lookup("HomeDomain", "../etc/passwd"); ok {
		t.Fatal("hostile path indexed")
	}
}

func TestComparePathsOrdersDescendantsAfterDir(t *testing.T) {
	ps := []string{"a-b", "a/b", "a", "a/b/c", "a.b", "", "a/a"}
	sort.Slice(ps, func(i, j int) bool { return comparePaths(ps[i], ps[j]) < 0 })
	want := []string{"", "a", "a/a", "a/b", "a/b/c", "a-b", "a.b"}
	if fmt.Sprint(ps) != fmt.Sprint(want) {
		t.Fatalf("got %q want %q", ps, want)
	}
}
