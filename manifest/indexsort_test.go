package manifest

import (
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// FuzzSortedOrder checks sortedOrder against the reference sort on arbitrary paths:
// the fuzzer's bytes are split into entries at '\n', and each entry's domain is its
// text up to the first '|' (bytes around '/', NUL and 0xFF, shared prefixes longer
// than the eight bytes a key holds, and slashes at the end are what matter).
func FuzzSortedOrder(f *testing.F) {
	for _, s := range []string{
		"a/b\na-b\na\na/\na//\na\x00\na.b",
		"D|Library/Caches/x\nD|Library/Caches-x\nE|Library/Caches/x\nD|Library/Caches/x",
		"abcdefgh/ij\nabcdefgh.ij\nabcdefgh\nabcdefgh/\nabcdefghij\n\n",
		"0123456789abcdef/\n0123456789abcdef\n0123456789abcdef\xff\n0123456789abcdef\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var entries []Entry
		for _, line := range strings.Split(s, "\n") {
			domain, path, ok := strings.Cut(line, "|")
			if !ok {
				domain, path = "HomeDomain", line
			}
			entries = append(entries, Entry{Domain: domain, Path: path})
		}
		if got, want := sortedOrder(entries), sortEntriesReference(entries); !reflect.DeepEqual(got, want) {
			t.Fatalf("sortedOrder = %v, the reference sort gives %v", got, want)
		}
	})
}

// sortEntriesReference is the order NewIndex has always used: a stable sort by
// domain, then comparePaths.
func sortEntriesReference(entries []Entry) []int32 {
	perm := make([]int32, len(entries))
	for i := range perm {
		perm[i] = int32(i)
	}
	sort.SliceStable(perm, func(i, j int) bool {
		a, b := &entries[perm[i]], &entries[perm[j]]
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		return comparePaths(a.Path, b.Path) < 0
	})
	return perm
}

// manyTrickyEntries are long paths that share prefixes and differ around '/', '-',
// '.' and ' ', with duplicates, in a few domains (not interned: equal domains are
// different strings, as a caller other than ReadDB may give them).
func manyTrickyEntries(r *rand.Rand, n int) []Entry {
	names := []string{"Library", "Library-x", "Caches", "a", "a b", "a.b", "a-b", "ab", "é", "Z", "0123456789"}
	domains := []string{"HomeDomain", "MediaDomain", "AppDomain-com.x", "AppDomain-com.x.y"}
	es := make([]Entry, n)
	for i := range es {
		depth := 1 + r.Intn(6)
		parts := make([]string, depth)
		for d := range parts {
			parts[d] = names[r.Intn(len(names))]
		}
		es[i] = Entry{Domain: strings.Clone(domains[r.Intn(len(domains))]), Path: strings.Join(parts, "/"), Inode: uint64(i)}
	}
	return es
}

func TestSortedOrderMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, n := range []int{0, 1, 1000, 70_000} {
		entries := manyTrickyEntries(r, n)
		want := sortEntriesReference(entries)
		if got := sortedOrder(entries); !reflect.DeepEqual(got, want) {
			t.Fatalf("%d entries: order differs from a stable sort", n)
		}
	}
}

// TestNewIndexInPlaceMatchesCopy builds the same index from a slice with room for the
// synthesized directories (rearranged in place) and from one without (copied).
func TestNewIndexInPlaceMatchesCopy(t *testing.T) {
	for seed := int64(0); seed < 50; seed++ {
		r := rand.New(rand.NewSource(seed))
		in := randomEntries(r, 1+r.Intn(300))
		tight := append([]Entry(nil), in...)[:len(in):len(in)]
		roomy := append(make([]Entry, 0, 3*len(in)+64), in...)
		a, sa := NewIndex(tight)
		b, sb := NewIndex(roomy)
		if !reflect.DeepEqual(sa, sb) || !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: in place and copied indexes differ (%+v vs %+v)", seed, sa, sb)
		}
		if sa.Synthesized == 0 && sa.Duplicates+sa.Orphans+sa.Invalid == 0 {
			continue
		}
		// The rearranged slice is the caller's memory: what it no longer holds is
		// cleared, so that dropped entries do not keep their strings alive.
		for _, e := range roomy[b.Len():cap(roomy)] {
			if e.Path != "" || e.Domain != "" {
				t.Fatalf("seed %d: a dropped entry is still in the slice: %+v", seed, e)
			}
		}
	}
}
