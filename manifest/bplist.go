package manifest

import (
	"encoding/binary"
	"math"
	"time"
	"unicode/utf16"
)

// bplist is a read-only view of a binary property list ("bplist00") that reads objects
// in place, without building Go values. It exists for speed: decoding the `file` column
// of a million-row Manifest.db with howett.net/plist allocates a map per object.
//
// parse accepts only documents that decodePlist (checkPlist, then howett.net/plist)
// also decodes without error, and only in the encodings both agree on, so that a
// decoder built on it can promise the same result as one built on decodePlist: every
// object reachable from the top one (all that howett.net/plist reads) must be well
// formed, in the usual encodings only (no 16-byte integers, no sets, no null or fill
// markers, counts written as 1-8 byte integers); the trailer must satisfy both
// decoders' rules; and the object graph must stay within checkBinaryPlist's limits
// (nesting depth, cycles, expansion of shared containers). Anything else is left to
// the slow path, which accepts or reports it.
//
// After parse, the reachable objects are valid, their bytes lie before the offset
// table, their references are below numObjects and their dictionary keys are
// strings, so the accessors need no error returns.
type bplist struct {
	b          []byte
	refSize    int
	offSize    int
	numObjects int
	tableOff   int
	top        int
	work       int // objects and references parse examined (FuzzFastMBFile bounds it)
	// offs caches the offset table of small documents (an MBFile has about 25
	// objects); 0 marks an offset outside the object area.
	offs   [64]int32
	cached bool
}

// Object markers: the high nibble of an object's first byte.
const (
	markerSimple = 0x0 // 0x08 false, 0x09 true (null and fill are refused)
	markerInt    = 0x1
	markerReal   = 0x2
	markerDate   = 0x3
	markerData   = 0x4
	markerASCII  = 0x5 // bytes taken as they are, like howett.net/plist does
	markerUTF16  = 0x6
	markerUID    = 0x8
	markerArray  = 0xA
	markerDict   = 0xD
)

// parse checks b as described on bplist and reports whether it is usable. g holds
// scratch space reused from one call to the next (nil: allocate).
//
// The object graph is checked in one depth-first walk from the top object that
// visits each object once: each object's encoding (validObject), and, computed over
// the graph, the two limits checkBinaryPlist puts on the tree decodePlist would build
// from it (no more than maxPlistDepth non-empty containers nested, no more than
// 4 nodes per byte + 1024 once shared objects are expanded), cycles included. So
// parse accepts only what checkBinaryPlist accepts (FuzzBplistParseImpliesGuard
// checks it), at a fraction of its cost, and its work is bounded by the size of b.
func (p *bplist) parse(b []byte, g *graphScratch) bool {
	const trailerLen = 32
	if len(b) < 8+1+trailerLen || len(b) > MaxMBFileSize || string(b[:8]) != "bplist00" {
		return false
	}
	t := b[len(b)-trailerLen:]
	var (
		offSize    = uint64(t[6])
		refSize    = uint64(t[7])
		numObjects = binary.BigEndian.Uint64(t[8:])
		top        = binary.BigEndian.Uint64(t[16:])
		tableOff   = binary.BigEndian.Uint64(t[24:])
		trailerOff = uint64(len(b) - trailerLen)
	)
	switch {
	// howett.net/plist computes 1<<(8*refSize) to bound the object count, which is 0
	// for 8-byte references: it refuses them all. So do we.
	case offSize < 1 || offSize > 8 || refSize < 1 || refSize > 7:
		return false
	case tableOff < 9 || tableOff >= trailerOff:
		return false
	// The offset table must end exactly where the trailer starts (no garbage between).
	case numObjects == 0 || numObjects > (trailerOff-tableOff)/offSize || tableOff+numObjects*offSize != trailerOff:
		return false
	case numObjects > uint64(1)<<(8*refSize):
		return false
	case offSize < 8 && uint64(1)<<(8*offSize) <= tableOff:
		return false
	case top >= numObjects:
		return false
	}
	p.b, p.refSize, p.offSize, p.numObjects = b, int(refSize), int(offSize), int(numObjects)
	p.tableOff, p.top, p.work, p.cached = int(tableOff), int(top), 0, false
	if p.numObjects <= len(p.offs) {
		for i := 0; i < p.numObjects; i++ {
			p.offs[i] = int32(p.tableOffset(i))
		}
		p.cached = true
	}
	if g == nil {
		g = new(graphScratch)
	}
	return p.checkGraph(g)
}

// graphScratch is checkGraph's memory, kept between calls.
type graphScratch struct {
	objs  []objState
	stack []graphFrame
}

// objState is what checkGraph knows of an object.
type objState struct {
	state uint8 // 0 not seen, 1 on the walk's path, 2 done
	depth uint8 // non-empty containers nested in it, itself included
	nodes uint32
}

// graphFrame is a container on checkGraph's path, with what its children add up to.
type graphFrame struct {
	obj, start, n, next int32 // n references from start; next is the one to visit
	depth               uint8
	nodes               uint32
}

// checkGraph walks the objects reachable from the top one (see parse).
func (p *bplist) checkGraph(g *graphScratch) bool {
	maxNodes := uint32(4*len(p.b) + 1024) // checkBinaryPlist's limit (b is at most 1 MiB)
	if cap(g.objs) < p.numObjects {
		g.objs = make([]objState, p.numObjects)
	}
	objs := g.objs[:p.numObjects]
	clear(objs)
	if g.stack == nil {
		g.stack = make([]graphFrame, 0, maxPlistDepth)
	}
	stack := g.stack[:0]
	// enter checks object i and starts its walk; done reports a leaf or an empty
	// container (finished at once: one node, no depth).
	enter := func(i int) (done, ok bool) {
		p.work++
		if !p.validObject(i) {
			return false, false
		}
		k := p.kind(i)
		if k != markerArray && k != markerDict {
			objs[i] = objState{state: 2, nodes: 1}
			return true, true
		}
		start, n := p.items(i)
		if k == markerDict {
			n *= 2
		}
		if n == 0 {
			objs[i] = objState{state: 2, nodes: 1}
			return true, true
		}
		if len(stack) == maxPlistDepth { // one container too many
			return false, false
		}
		objs[i].state = 1
		stack = append(stack, graphFrame{obj: int32(i), start: int32(start), n: int32(n), nodes: 1})
		return false, true
	}
	if done, ok := enter(p.top); !ok {
		return false
	} else if done {
		return true
	}
	for {
		f := &stack[len(stack)-1]
		if f.next == f.n { // all children done
			s := objState{state: 2, depth: f.depth + 1, nodes: f.nodes}
			objs[f.obj] = s
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return s.nodes <= maxNodes
			}
			parent := &stack[len(stack)-1]
			parent.depth = max(parent.depth, s.depth)
			parent.nodes = min(parent.nodes+s.nodes, maxNodes+1)
			continue
		}
		p.work++
		k := int(f.next)
		r := int(p.readUint(int(f.start)+k*p.refSize, p.refSize))
		f.next++
		if r >= p.numObjects {
			return false
		}
		// A dictionary's keys (its first n/2 references) must be strings.
		if k < int(f.n)/2 && p.b[p.offset(int(f.obj))]>>4 == markerDict {
			if off := p.offset(r); off == 0 || (p.b[off]>>4 != markerASCII && p.b[off]>>4 != markerUTF16) {
				return false
			}
		}
		switch objs[r].state {
		case 1: // a cycle
			return false
		case 0:
			done, ok := enter(r)
			if !ok {
				return false
			}
			if !done {
				continue // r's walk has begun; f is no longer the top of the stack
			}
		}
		s := objs[r]
		if len(stack)+int(s.depth) > maxPlistDepth {
			return false
		}
		f.depth = max(f.depth, s.depth)
		f.nodes = min(f.nodes+s.nodes, maxNodes+1)
	}
}

// readUint reads a big-endian unsigned integer of size (1-8) bytes at at. Offsets
// and references are read on every access, so the usual sizes take one load.
func (p *bplist) readUint(at, size int) uint64 {
	switch size {
	case 1:
		return uint64(p.b[at])
	case 2:
		return uint64(binary.BigEndian.Uint16(p.b[at:]))
	case 4:
		return uint64(binary.BigEndian.Uint32(p.b[at:]))
	case 8:
		return binary.BigEndian.Uint64(p.b[at:])
	}
	var v uint64
	for _, c := range p.b[at : at+size] {
		v = v<<8 | uint64(c)
	}
	return v
}

// offset returns where object i starts; 0 when it is outside the object area.
func (p *bplist) offset(i int) int {
	if p.cached {
		return int(p.offs[i])
	}
	return p.tableOffset(i)
}

// tableOffset reads object i's offset from the table; 0 when it is outside the
// object area.
func (p *bplist) tableOffset(i int) int {
	off := p.readUint(p.tableOff+i*p.offSize, p.offSize)
	if off < 8 || off >= uint64(p.tableOff) {
		return 0
	}
	return int(off)
}

// count reads the length of the variable-size object at off (low nibble, or an
// integer object after the marker when the nibble is 0xF) and where its payload starts.
func (p *bplist) count(off int) (n uint64, start int, ok bool) {
	if c := p.b[off] & 0xF; c != 0xF {
		return uint64(c), off + 1, true
	}
	at := off + 1
	if at >= p.tableOff || p.b[at]>>4 != markerInt || p.b[at]&0xF > 3 {
		return 0, 0, false
	}
	size := 1 << (p.b[at] & 0xF)
	if at+1+size > p.tableOff {
		return 0, 0, false
	}
	return p.readUint(at+1, size), at + 1 + size, true
}

// validObject checks object i's encoding and that it stays inside the object area.
func (p *bplist) validObject(i int) bool {
	off := p.offset(i)
	if off == 0 {
		return false
	}
	tag := p.b[off]
	room := p.tableOff - off - 1 // bytes after the marker
	switch tag >> 4 {
	case markerSimple:
		return tag == 0x08 || tag == 0x09
	case markerInt:
		return tag&0xF <= 3 && 1<<(tag&0xF) <= room
	case markerReal:
		return (tag&0xF == 2 || tag&0xF == 3) && 1<<(tag&0xF) <= room
	case markerDate:
		return tag == 0x33 && 8 <= room
	case markerUID:
		return int(tag&0xF)+1 <= 8 && int(tag&0xF)+1 <= room
	case markerData, markerASCII, markerUTF16:
		n, start, ok := p.count(off)
		if !ok {
			return false
		}
		avail := uint64(p.tableOff - start)
		if tag>>4 == markerUTF16 {
			avail /= 2
		}
		return n <= avail
	case markerArray, markerDict:
		// The references themselves are checked by checkGraph as it follows them.
		n, start, ok := p.count(off)
		if !ok {
			return false
		}
		refs := uint64(p.tableOff-start) / uint64(p.refSize)
		if tag>>4 == markerDict {
			return n <= refs/2
		}
		return n <= refs
	}
	return false
}

// The accessors below assume parse succeeded and i < numObjects.

func (p *bplist) kind(i int) byte { return p.b[p.offset(i)] >> 4 }

// items returns where a container's references start and how many items it has
// (pairs for a dictionary: keys first, then values).
func (p *bplist) items(i int) (start, n int) {
	c, s, _ := p.count(p.offset(i))
	return s, int(c)
}

// ref returns the k-th reference of a list starting at start.
func (p *bplist) ref(start, k int) int {
	return int(p.readUint(start+k*p.refSize, p.refSize))
}

// payload returns the bytes of a data or ASCII string object (aliasing the document),
// or the raw big-endian code units of a UTF-16 string.
func (p *bplist) payload(i int) []byte {
	off := p.offset(i)
	n, start, _ := p.count(off)
	if p.b[off]>>4 == markerUTF16 {
		n *= 2
	}
	return p.b[start : start+int(n) : start+int(n)]
}

// isString reports whether i is a string (ASCII or UTF-16).
func (p *bplist) isString(i int) bool {
	k := p.kind(i)
	return k == markerASCII || k == markerUTF16
}

// stringIs reports whether string object i equals s, which must be ASCII. A UTF-16
// string equals an ASCII one exactly when its code units are those bytes: any other
// unit decodes to a non-ASCII rune (or U+FFFD).
func (p *bplist) stringIs(i int, s string) bool {
	b := p.payload(i)
	if p.kind(i) == markerASCII {
		return string(b) == s
	}
	if len(b) != 2*len(s) {
		return false
	}
	for j := 0; j < len(s); j++ {
		if b[2*j] != 0 || b[2*j+1] != s[j] {
			return false
		}
	}
	return true
}

// stringValue returns string object i as a new Go string, converted as
// howett.net/plist converts it (ASCII bytes as they are; UTF-16 through utf16.Decode).
func (p *bplist) stringValue(i int) string {
	b := p.payload(i)
	if p.kind(i) == markerASCII {
		return string(b)
	}
	units := make([]uint16, len(b)/2)
	for j := range units {
		units[j] = binary.BigEndian.Uint16(b[2*j:])
	}
	return string(utf16.Decode(units))
}

// asciiKey returns the bytes of a string object that can only equal an ASCII name:
// an ASCII string's bytes, or a UTF-16 string's units when all are below 0x80
// (copied into buf). ok is false for a UTF-16 string that no ASCII name equals.
func (p *bplist) asciiKey(i int, buf *[32]byte) (key []byte, ok bool) {
	b := p.payload(i)
	if p.kind(i) == markerASCII {
		return b, true
	}
	if len(b)/2 > len(buf) {
		return nil, false
	}
	for j := 0; j < len(b)/2; j++ {
		if b[2*j] != 0 || b[2*j+1] >= 0x80 {
			return nil, false
		}
		buf[j] = b[2*j+1]
	}
	return buf[:len(b)/2], true
}

// dictGet returns the value of key in dictionary d (the last one when the key is
// repeated, as decoding into a Go map keeps the last). key must be ASCII.
func (p *bplist) dictGet(d int, key string) (v int, ok bool) {
	start, n := p.items(d)
	for k := 0; k < n; k++ {
		if p.stringIs(p.ref(start, k), key) {
			v, ok = p.ref(start, n+k), true
		}
	}
	return v, ok
}

// integer returns an integer object's value as howett.net/plist decodes it: 1, 2 and
// 4-byte integers are unsigned, 8-byte ones signed, so the 64 bits read as int64 are
// the value in every case.
func (p *bplist) integer(i int) int64 {
	off := p.offset(i)
	return int64(p.readUint(off+1, 1<<(p.b[off]&0xF)))
}

// real returns a real object's value (a 4-byte real widened to float64).
func (p *bplist) real(i int) float64 {
	off := p.offset(i)
	if p.b[off]&0xF == 2 {
		return float64(math.Float32frombits(uint32(p.readUint(off+1, 4))))
	}
	return math.Float64frombits(p.readUint(off+1, 8))
}

// dateUnix returns a date object as Unix seconds, computed exactly as
// howett.net/plist builds its time.Time (seconds since 2001, split with math.Modf).
func (p *bplist) dateUnix(i int) int64 {
	off := p.offset(i)
	val := math.Float64frombits(p.readUint(off+1, 8)) + appleEpoch
	sec, fsec := math.Modf(val)
	return time.Unix(int64(sec), int64(fsec*float64(time.Second))).Unix()
}

// uid returns a UID object's value.
func (p *bplist) uid(i int) uint64 {
	off := p.offset(i)
	return p.readUint(off+1, int(p.b[off]&0xF)+1)
}
