package manifest

import (
	"cmp"
	"math/bits"
	"slices"
)

// sortedOrder returns the positions of entries sorted by domain, then by path
// component by component (comparePaths), then by position: the order NewIndex lays
// the tree out in.
//
// It sorts 16-byte keys, not entries: each key holds the domain's rank and eight
// bytes of the path, so a comparison reads nothing but the two keys (a sort by
// comparePaths read two entries and two paths from all over the heap per comparison,
// and waited on memory). Runs of keys that tie on their eight bytes are sorted again
// on the next eight (a most-significant-digit sort with 64-bit digits), so each path
// is read about once per eight bytes of prefix it shares with another, not once per
// comparison.
//
// Measured on the entries of a generated 1,000,000-row backup (genbackup -entries
// 1000000 -seed 3: 70-byte paths ten levels deep, 13 domains), one core of a shared
// 2-core machine at load average ~10, CPU time per sort: the sort by comparePaths took
// 1.5-1.6 s (in parts on both cores, then merged); this one 0.96-1.0 s. Most of what
// is left is reading each path about once per level (7.5 passes over the entries for
// that backup). backup.Open of it: 4.2-4.4 s of CPU instead of 4.7-4.9 s, quiet or
// with a process spinning on the other core; peak RSS 248 MB instead of 246 MB. It
// runs on one core: under load a split and merge over cores is extra work.
func sortedOrder(entries []Entry) []int32 {
	// Group the positions by domain (a counting sort: positions stay in order within
	// a domain), then sort each domain's on its own with keys reused from one to the
	// next: the keys are 32 bytes each, and for all entries at once they added 32 MB
	// to the peak RSS of opening a million rows; for the largest domain, a fifth.
	ranks, domains := domainRanks(entries)
	start := make([]int, domains+1)
	for _, r := range ranks {
		start[r+1]++
	}
	largest := 0
	for d := 1; d <= domains; d++ {
		largest = max(largest, start[d])
		start[d] += start[d-1]
	}
	perm := make([]int32, len(entries))
	next := slices.Clone(start[:domains])
	for i, r := range ranks {
		perm[next[r]] = int32(i)
		next[r]++
	}
	ranks = nil
	keys := make([]pathKey, largest)
	for d := 0; d < domains; d++ {
		part := perm[start[d]:start[d+1]]
		k := keys[:len(part)]
		for i, pos := range part {
			k[i] = pathKey{path: entries[pos].Path, pos: pos}
		}
		sortPathKeys(k)
		for i := range k {
			part[i] = k[i].pos
		}
	}
	return perm
}

// pathKey is one entry in sortedOrder (all of one domain): big-endian, eight bytes of
// its path from the depth being sorted, each byte mapped by pathByteOrder, with how
// many of those eight the path has (fewer at its end). The path itself is kept
// beside them: reading it through the entry cost a second cache miss per key.
type pathKey struct {
	chunk uint64
	path  string
	n     uint32 // bytes of the path in chunk (0-8)
	pos   int32  // the entry's position
}

// comparePathKeys orders by chunk, then the count of path bytes in it, then position.
func comparePathKeys(a, b pathKey) int {
	if a.chunk != b.chunk {
		return cmp.Compare(a.chunk, b.chunk)
	}
	if a.n != b.n {
		return cmp.Compare(a.n, b.n)
	}
	return cmp.Compare(a.pos, b.pos)
}

// pathByteOrder maps a path byte to its rank in comparePaths' order: '/' first, then
// every other byte in byte order. Padding past the end of a path is 0 too, which
// ties a path with its extension by slashes only: the count of bytes in the key
// (shorter first) decides those, as comparePaths does.
var pathByteOrder = func() (t [256]byte) {
	for c := range t {
		switch {
		case c < '/':
			t[c] = byte(c + 1)
		case c > '/':
			t[c] = byte(c)
		}
	}
	return t
}()

// setChunk fills k with the eight bytes of its path from depth.
func (k *pathKey) setChunk(depth int) {
	var chunk uint64
	n := 0
	if depth < len(k.path) {
		s := k.path[depth:]
		n = min(len(s), 8)
		for i := 0; i < n; i++ {
			chunk |= uint64(pathByteOrder[s[i]]) << (56 - 8*i)
		}
	}
	k.chunk, k.n = chunk, uint32(n)
}

// commonPrefixLen is the length of the longest common prefix of a and b.
func commonPrefixLen(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && load64(a, i) == load64(b, i) {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// comparePathsWide orders like comparePaths (its sign), skipping the common prefix
// eight bytes at a time: sibling paths share long prefixes.
func comparePathsWide(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x, y := load64(a, i), load64(b, i); x != y {
			i += bits.TrailingZeros64(x^y) / 8
			return compareByte(a[i], b[i])
		}
	}
	for ; i < n; i++ {
		if a[i] != b[i] {
			return compareByte(a[i], b[i])
		}
	}
	return len(a) - len(b)
}

// compareByte orders two different bytes of a path: '/' before every other byte.
func compareByte(ca, cb byte) int {
	switch {
	case ca == '/':
		return -1
	case cb == '/':
		return 1
	case ca < cb:
		return -1
	}
	return 1
}

// load64 reads s[i:i+8] little-endian (the compiler makes this one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// smallRun is the size of a run of keys below which sortPathKeys compares whole
// paths: a run of siblings in a deep tree (about 20 of them, in a generated million-
// row backup) was read once per eight bytes of their common prefix otherwise.
const smallRun = 64

// sortPathKeys sorts the keys of one domain into sortedOrder's order.
func sortPathKeys(keys []pathKey) {
	type run struct{ lo, hi, depth int }
	for i := range keys {
		keys[i].setChunk(0)
	}
	todo := []run{{0, len(keys), 0}}
	for len(todo) > 0 {
		r := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		part := keys[r.lo:r.hi]
		if r.depth > 0 && len(part) <= smallRun {
			// A few siblings: their paths fit in the cache once read, so compare
			// them whole rather than eight bytes per pass.
			depth := r.depth
			slices.SortFunc(part, func(a, b pathKey) int {
				if c := comparePathsWide(a.path[depth:], b.path[depth:]); c != 0 {
					return c
				}
				return cmp.Compare(a.pos, b.pos)
			})
			continue
		}
		if r.depth > 0 {
			// All of part shares the path up to depth; paths in a deep tree share
			// much more (Library/Application Support/...): skip what all share
			// beyond it at once, instead of eight bytes per pass over part.
			first, common := part[0].path, len(part[0].path)-r.depth
			for i := range part {
				part[i].setChunk(r.depth)
				if common > 0 {
					common = min(common, commonPrefixLen(first[r.depth:], part[i].path[r.depth:]))
				}
			}
			if common >= 8 {
				r.depth += common
				for i := range part {
					part[i].setChunk(r.depth)
				}
			}
		}
		slices.SortFunc(part, comparePathKeys)
		// Runs that tie on eight full bytes continue past them: sort them on the next
		// eight. (Ties on fewer bytes are equal paths, already in position order.)
		for i := 0; i < len(part); {
			j := i + 1
			for j < len(part) && part[j].n == part[i].n && part[j].chunk == part[i].chunk {
				j++
			}
			if j-i > 1 && part[i].n == 8 {
				todo = append(todo, run{r.lo + i, r.lo + j, r.depth + 8})
			}
			i = j
		}
	}
}

// domainRanks returns each entry's domain's rank among the distinct domains, in
// string order, and how many distinct domains there are.
func domainRanks(entries []Entry) ([]uint32, int) {
	ids := make(map[string]uint32)
	var names []string
	ranks := make([]uint32, len(entries))
	last, lastID := "", uint32(0)
	for i := range entries {
		d := entries[i].Domain
		if i == 0 || d != last { // domains are usually interned and grouped: a pointer compare
			id, ok := ids[d]
			if !ok {
				id = uint32(len(names))
				ids[d] = id
				names = append(names, d)
			}
			last, lastID = d, id
		}
		ranks[i] = lastID
	}
	byName := make([]uint32, len(names))
	for i := range byName {
		byName[i] = uint32(i)
	}
	slices.SortFunc(byName, func(a, b uint32) int { return cmp.Compare(names[a], names[b]) })
	order := make([]uint32, len(names)) // id -> rank
	for rank, id := range byName {
		order[id] = uint32(rank)
	}
	for i, id := range ranks {
		ranks[i] = order[id]
	}
	return ranks, len(names)
}
