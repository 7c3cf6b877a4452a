package manifest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Index is the in-memory tree of a backup: every entry, sorted by domain and then by
// path component by component, so that each directory is followed by all of its
// descendants (a depth-first pre-order) and the children of a directory appear in name
// order. Entries are addressed by int32 position to keep per-entry overhead small: a
// million entries cost a few MB of index on top of the entries themselves.
type Index struct {
	entries  []Entry
	domains  []domainSpan
	parent   []int32 // parent[i] = index of i's directory, -1 for a domain root
	childOff []int32 // children of i are children[childOff[i]:childOff[i+1]]
	children []int32
}

type domainSpan struct {
	name       string
	start, end int32 // entries[start] is the domain root
}

// IndexStats counts what building the index had to repair.
type IndexStats struct {
	Synthesized int // directories implied by a path but missing from the manifest
	Duplicates  int // (domain, path) pairs listed more than once: the first one wins
	Orphans     int // entries below a path that is a file or symlink: dropped
	// Invalid entries have a path with empty, ".", ".." components or NUL bytes, or a
	// domain that is no valid folder name (see ValidDomain): dropped.
	Invalid int
	// Dropped names every entry left out, by reason; nil when none was.
	Dropped *Drops
}

// NewIndex builds the tree from entries, taking ownership of the slice. Missing parent
// directories (including domain roots) are synthesized with mode 0755.
//
// The entries are rearranged in place when the slice has room for the synthesized
// directories (ReadDBEntries leaves some): a million entries are 200 MB, and a second
// copy of them was most of the peak memory of opening a large backup.
func NewIndex(entries []Entry) (*Index, IndexStats) {
	var st IndexStats
	n := len(entries)
	// Sort a permutation rather than the 200-byte entries themselves; ties keep input
	// order so that the first listing of a duplicated path is the one kept.
	perm := sortedOrder(entries)

	// First plan the layout: layout[k] is where output entry k comes from, an index
	// into entries, or n+j for synth[j]. Nothing moves yet.
	layout := make([]int32, 0, n+n/64+16)
	parent := make([]int32, 0, cap(layout))
	var synth []Entry
	ix := &Index{}
	at := func(k int32) *Entry {
		if src := int(layout[k]); src < n {
			return &entries[src]
		}
		return &synth[int(layout[k])-n]
	}

	var (
		stack   []int32 // chain of open directories (output positions), root first
		blocked = -1    // output position of the last non-directory: its "children" are orphans
		domain  string
		first   = true
	)
	emit := func(src int, par int32) int32 {
		layout = append(layout, int32(src))
		parent = append(parent, par)
		return int32(len(layout) - 1)
	}
	emitSynthetic := func(e Entry, par int32) int32 {
		synth = append(synth, e)
		return emit(n+len(synth)-1, par)
	}
	for _, pi := range perm {
		e := &entries[pi]
		if !ValidDomain(e.Domain) {
			st.Invalid++
			addDrop(&st.Dropped, droppedEntry(DropBadDomain, e, ""))
			continue
		}
		if !ValidPath(e.Path) {
			st.Invalid++
			addDrop(&st.Dropped, droppedEntry(DropBadPath, e, ""))
			continue
		}
		if first || e.Domain != domain {
			if !first {
				ix.domains[len(ix.domains)-1].end = int32(len(layout))
			}
			first, domain, blocked = false, e.Domain, -1
			ix.domains = append(ix.domains, domainSpan{name: domain, start: int32(len(layout))})
			stack = stack[:0]
			if e.Path != "" {
				st.Synthesized++
				stack = append(stack, emitSynthetic(syntheticDir(domain, ""), -1))
			}
		}
		if e.Path == "" {
			if len(stack) > 0 {
				st.Duplicates++
				addDrop(&st.Dropped, droppedEntry(DropDuplicate, e, "the domain has an earlier root row"))
				continue
			}
			e.Kind, e.Mode = KindDir, dirMode(e.Mode)
			stack = append(stack, emit(int(pi), -1))
			continue
		}
		last := at(int32(len(layout) - 1))
		if last.Domain == e.Domain && last.Path == e.Path {
			st.Duplicates++
			addDrop(&st.Dropped, droppedEntry(DropDuplicate, e, "the row kept has fileID "+last.ID.String()))
			continue
		}
		if blocked >= 0 && isBelow(e.Path, at(int32(blocked)).Path) {
			st.Orphans++
			b := at(int32(blocked))
			addDrop(&st.Dropped, droppedEntry(DropBelowFile, e, fmt.Sprintf("%q is a %s", b.Path, b.Kind)))
			continue
		}
		// Close the directories this entry is not inside.
		for len(stack) > 1 && !isBelow(e.Path, at(stack[len(stack)-1]).Path) {
			stack = stack[:len(stack)-1]
		}
		// Open the directories between the innermost open one and this entry's parent.
		dir := parentPath(e.Path)
		have := at(stack[len(stack)-1]).Path
		for have != dir {
			next := dir
			if rest := strings.TrimPrefix(dir, have); have != "" {
				next = have + "/" + firstComponent(rest[1:])
			} else {
				next = firstComponent(dir)
			}
			st.Synthesized++
			stack = append(stack, emitSynthetic(syntheticDir(domain, next), stack[len(stack)-1]))
			have = next
		}
		idx := emit(int(pi), stack[len(stack)-1])
		if e.Kind == KindDir {
			stack = append(stack, idx)
			blocked = -1
		} else {
			blocked = int(idx)
		}
	}
	if len(ix.domains) > 0 {
		ix.domains[len(ix.domains)-1].end = int32(len(layout))
	}
	perm = nil

	ix.entries, ix.parent = arrange(entries, synth, layout), parent
	ix.buildChildren()
	return ix, st
}

// arrange returns the entries in the order layout gives (an index into entries, or
// len(entries)+j for synth[j]); entries layout leaves out are dropped. It works in
// place when entries has room for synth, and copies otherwise.
func arrange(entries, synth []Entry, layout []int32) []Entry {
	n, m := len(entries), len(layout)
	total := n + len(synth)
	if cap(entries) < total {
		out := make([]Entry, m)
		for k, src := range layout {
			if int(src) < n {
				out[k] = entries[src]
			} else {
				out[k] = synth[int(src)-n]
			}
		}
		return out
	}
	all := entries[:total]
	copy(all[n:], synth)
	// Complete layout into a permutation of all the slots (the dropped ones go last),
	// then apply it cycle by cycle: all[k] becomes the old all[from[k]].
	used := make([]uint64, (total+63)/64)
	for _, src := range layout {
		used[src/64] |= 1 << (src % 64)
	}
	from := slices.Grow(layout, total-m)
	for src := 0; src < total; src++ {
		if used[src/64]&(1<<(src%64)) == 0 {
			from = append(from, int32(src))
		}
	}
	done := used // reuse: clear, then mark the positions filled
	clear(done)
	for k := 0; k < total; k++ {
		if done[k/64]&(1<<(k%64)) != 0 {
			continue
		}
		saved := all[k]
		j := k
		for {
			done[j/64] |= 1 << (j % 64)
			src := int(from[j])
			if src == k {
				all[j] = saved
				break
			}
			all[j] = all[src]
			j = src
		}
	}
	clear(all[m:]) // the dropped entries: let their strings go
	return all[:m:m]
}

// buildChildren lays the children of every directory out contiguously (CSR form).
// Entries are in pre-order, so scanning in order keeps children in name order.
func (ix *Index) buildChildren() {
	n := len(ix.entries)
	off := make([]int32, n+1)
	for _, p := range ix.parent {
		if p >= 0 {
			off[p+1]++
		}
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	children := make([]int32, off[n])
	fill := make([]int32, n)
	copy(fill, off[:n])
	for i, p := range ix.parent {
		if p >= 0 {
			children[fill[p]] = int32(i)
			fill[p]++
		}
	}
	ix.childOff, ix.children = off, children
}

// isBelow reports whether p lies inside directory dir (a non-empty path), i.e. starts
// with dir + "/", without building that string: NewIndex asks twice per entry.
func isBelow(p, dir string) bool {
	return len(p) > len(dir) && p[len(dir)] == '/' && p[:len(dir)] == dir
}

// ValidPath reports whether p can be shown as a path: relative, no empty, "." or ".."
// component, no NUL. A hostile manifest must not be able to name a file "..".
func ValidPath(p string) bool {
	if p == "" {
		return true
	}
	if strings.IndexByte(p, 0) >= 0 {
		return false
	}
	for {
		c, rest, more := strings.Cut(p, "/")
		if c == "" || c == "." || c == ".." {
			return false
		}
		if !more {
			return true
		}
		p = rest
	}
}

// droppedEntry describes entry e, left out of the index for reason.
func droppedEntry(reason DropReason, e *Entry, detail string) DroppedRow {
	return DroppedRow{Reason: reason, Domain: clip(e.Domain), Path: clip(e.Path), FileID: e.ID.String(), Detail: detail}
}

func syntheticDir(domain, path string) Entry {
	return Entry{
		Domain:    domain,
		Path:      path,
		ID:        ComputeFileID(domain, path),
		Kind:      KindDir,
		Mode:      0o040755,
		Synthetic: true,
	}
}

// dirMode keeps recorded permission bits but forces the directory type.
func dirMode(m uint32) uint32 {
	if m&0o7777 == 0 {
		m |= 0o755
	}
	return m&0o7777 | 0o040000
}

// comparePaths orders paths component by component: '/' sorts before every other byte,
// so "a/b" < "a-b" and a directory's descendants directly follow it.
func comparePaths(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		if ca < cb {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func firstComponent(p string) string {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// Len is the number of entries, synthesized directories included.
func (ix *Index) Len() int { return len(ix.entries) }

// Entry returns entry i; the pointer stays valid for the life of the Index.
func (ix *Index) Entry(i int32) *Entry { return &ix.entries[i] }

// Name is the last component of entry i's path ("" for a domain root).
func (ix *Index) Name(i int32) string {
	p := ix.entries[i].Path
	return p[strings.LastIndexByte(p, '/')+1:]
}

// Parent returns the directory holding entry i, or -1 for a domain root.
func (ix *Index) Parent(i int32) int32 { return ix.parent[i] }

// Children returns the direct children of entry i in name order (nil for non-dirs).
// The slice is shared: do not modify it.
func (ix *Index) Children(i int32) []int32 {
	return ix.children[ix.childOff[i]:ix.childOff[i+1]]
}

// Domains returns the domain names in sorted order.
func (ix *Index) Domains() []string {
	names := make([]string, len(ix.domains))
	for i, d := range ix.domains {
		names[i] = d.name
	}
	return names
}

// DomainRoot returns the root directory entry of a domain.
func (ix *Index) DomainRoot(domain string) (int32, bool) {
	d, ok := ix.span(domain)
	if !ok {
		return -1, false
	}
	return d.start, true
}

func (ix *Index) span(domain string) (domainSpan, bool) {
	i := sort.Search(len(ix.domains), func(i int) bool { return ix.domains[i].name >= domain })
	if i < len(ix.domains) && ix.domains[i].name == domain {
		return ix.domains[i], true
	}
	return domainSpan{}, false
}

// Lookup finds the entry for (domain, path) by binary search.
func (ix *Index) Lookup(domain, path string) (int32, bool) {
	d, ok := ix.span(domain)
	if !ok {
		return -1, false
	}
	lo, hi := int(d.start), int(d.end)
	i := lo + sort.Search(hi-lo, func(k int) bool {
		return comparePaths(ix.entries[lo+k].Path, path) >= 0
	})
	if i < hi && ix.entries[i].Path == path {
		return int32(i), true
	}
	return -1, false
}

// LookupChild finds the child of directory dir named name (binary search over its
// children, which are in name order).
func (ix *Index) LookupChild(dir int32, name string) (int32, bool) {
	kids := ix.Children(dir)
	k := sort.Search(len(kids), func(k int) bool {
		return comparePaths(ix.Name(kids[k]), name) >= 0
	})
	if k < len(kids) && ix.Name(kids[k]) == name {
		return kids[k], true
	}
	return -1, false
}

// DomainCounts returns, per domain, how many files, directories and symlinks it holds.
func (ix *Index) DomainCounts() map[string][3]int {
	counts := make(map[string][3]int, len(ix.domains))
	for _, d := range ix.domains {
		var c [3]int
		for _, e := range ix.entries[d.start:d.end] {
			switch e.Kind {
			case KindFile:
				c[0]++
			case KindDir:
				c[1]++
			case KindSymlink:
				c[2]++
			}
		}
		counts[d.name] = c
	}
	return counts
}

// DomainSpan returns the entries of a domain as the half-open range [start, end): its
// root first, then its descendants in the index's order (see ComparePaths).
func (ix *Index) DomainSpan(domain string) (start, end int32, ok bool) {
	d, ok := ix.span(domain)
	return d.start, d.end, ok
}

// ComparePaths is the order of paths inside a domain of an Index: component by
// component, so a directory's descendants directly follow it. Two indexes can be
// walked side by side in it (a merge), as diff does.
func ComparePaths(a, b string) int { return comparePaths(a, b) }
