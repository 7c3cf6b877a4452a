package manifest

import (
	"cmp"
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

// sortedOrder returns the positions of entries sorted by domain, then by path
// component by component (comparePaths), then by position: the order NewIndex lays
// the tree out in. Sorting int32 positions moves 4 bytes per swap instead of 200.
//
// A million paths take a second to sort on one core (the comparisons wait on memory:
// each one reads two entries and two paths from all over the heap), so a large
// manifest is sorted in parts on every core and the parts merged. The order is a
// total one (position breaks ties), so the result is the same however it is split.
func sortedOrder(entries []Entry) []int32 {
	perm := make([]int32, len(entries))
	for i := range perm {
		perm[i] = int32(i)
	}
	less := func(i, j int32) int {
		a, b := &entries[i], &entries[j]
		if a.Domain != b.Domain { // usually interned: equal domains compare by pointer
			return cmp.Compare(a.Domain, b.Domain)
		}
		if c := comparePathsWide(a.Path, b.Path); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	}
	parts := min(runtime.GOMAXPROCS(0), 8, len(perm)/(1<<15))
	if parts < 2 {
		slices.SortFunc(perm, less)
		return perm
	}
	parts = 1 << (bits.Len(uint(parts)) - 1) // a power of two: merged pairwise
	bounds := make([]int, parts+1)
	for k := range bounds {
		bounds[k] = k * len(perm) / parts
	}
	var wg sync.WaitGroup
	for k := 0; k < parts; k++ {
		wg.Go(func() { slices.SortFunc(perm[bounds[k]:bounds[k+1]], less) })
	}
	wg.Wait()
	// Merge neighbouring runs pairwise, back and forth between perm and tmp.
	src, dst := perm, make([]int32, len(perm))
	for width := 1; width < parts; width *= 2 {
		for k := 0; k < parts; k += 2 * width {
			lo, mid, hi := bounds[k], bounds[k+width], bounds[min(k+2*width, parts)]
			wg.Go(func() { mergeRuns(dst[lo:hi], src[lo:mid], src[mid:hi], less) })
		}
		wg.Wait()
		src, dst = dst, src
	}
	return src
}

// mergeRuns merges the sorted runs a and b into out (len(a)+len(b) long).
func mergeRuns(out, a, b []int32, less func(i, j int32) int) {
	i, j := 0, 0
	for k := range out {
		if j == len(b) || i < len(a) && less(a[i], b[j]) <= 0 {
			out[k] = a[i]
			i++
		} else {
			out[k] = b[j]
			j++
		}
	}
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

// load64 reads s[i:i+8] little-endian (the compiler makes this one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
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
