package manifest

import (
	"testing"
)

// sharedLadder is levels arrays, each holding the next one twice: it expands to
// 2^levels leaves although it is a few dozen bytes.
func sharedLadder(levels int) []byte {
	objects := make([][]byte, 0, levels+1)
	for i := 0; i < levels; i++ {
		objects = append(objects, bpArrayOf(i+1, i+1))
	}
	objects = append(objects, bpString("leaf"))
	return buildBplist(objects, 1, 0)
}

// TestBplistParseAgreesWithGuard checks parse against checkBinaryPlist on the limits
// it computes over the graph instead of walking the expanded tree.
func TestBplistParseAgreesWithGuard(t *testing.T) {
	cases := map[string]struct {
		doc    []byte
		accept bool
	}{
		"ladder within the node limit": {sharedLadder(8), true},
		"ladder beyond the node limit": {sharedLadder(14), false},
		// deepArrays(n) nests n-1 non-empty arrays around an empty one, which does not count.
		"nesting at the limit":        {buildBplist(deepArrays(maxPlistDepth+1, 0), 1, 0), true},
		"nesting one beyond":          {buildBplist(deepArrays(maxPlistDepth+2, 0), 1, 0), false},
		"shared deep tail, long path": {deepShared(), false},
		"self-containing array":       {selfContainingArray(), false},
	}
	for name, c := range cases {
		guard := checkBinaryPlist(c.doc)
		var p bplist
		got := p.parse(c.doc, nil)
		if (guard == nil) != c.accept {
			t.Fatalf("%s: checkBinaryPlist says %v; the case says accept=%v", name, guard, c.accept)
		}
		if got != c.accept {
			t.Errorf("%s: parse = %v, checkBinaryPlist: %v", name, got, guard)
		}
	}
}

// deepShared reaches one chain of 20 nested arrays twice: directly from the top
// (depth 21) and from the bottom of another chain of 15 (depth 36, too deep). A walk
// that remembered only the first, shallow visit would accept it.
func deepShared() []byte {
	const tail, head = 20, 15
	// 0: top array [1, 2]; 1..head: chain ending in the tail; tail starts at head+1.
	tailStart := 1 + head
	objects := [][]byte{bpArrayOf(tailStart, 1)}
	for i := 1; i <= head; i++ {
		next := i + 1
		if i == head {
			next = tailStart
		}
		objects = append(objects, bpArrayOf(next))
	}
	objects = append(objects, deepArrays(tail, tailStart)...)
	return buildBplist(objects, 1, 0)
}

// FuzzBplistParseImpliesGuard: whatever parse accepts, checkBinaryPlist (the guard
// decodePlist runs before howett.net/plist) accepts too, and parse's work stays
// bounded by the document's size.
func FuzzBplistParseImpliesGuard(f *testing.F) {
	f.Add(sharedLadder(8))
	f.Add(sharedLadder(14))
	f.Add(deepShared())
	f.Add(buildBplist(deepArrays(maxPlistDepth, 0), 1, 0))
	f.Add(selfContainingArray())
	f.Add(hugeCount())
	f.Add(appendBlob(f))
	for _, b := range handVariants() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var p bplist
		if p.parse(doc, nil) {
			if err := checkBinaryPlist(doc); err != nil {
				t.Fatalf("parse accepted what checkBinaryPlist rejects: %v", err)
			}
		}
		if bound := workBound(doc); p.work > bound {
			t.Fatalf("parse examined %d objects and references, more than %d", p.work, bound)
		}
	})
}
