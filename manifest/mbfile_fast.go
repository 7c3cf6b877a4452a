package manifest

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// decodeMBFileFast decodes an MBFile the way decodeMBFile does, reading the binary
// plist in place (bplist) instead of building a map per object. It returns false,
// leaving e untouched, whenever it cannot vouch that decodeMBFile would produce exactly
// the same entry: XML or unusual plists, and every input decodeMBFile rejects (its
// error messages are the ones reported). The caller then runs decodeMBFile.
//
// The byte slices it stores come from d's arena (plain allocations when d or its
// arena is nil); they never alias data. FuzzFastMBFile checks the promise against
// decodeMBFile.
func decodeMBFileFast(data []byte, e *Entry, d *mbDecoder) bool {
	if len(data) > MaxMBFileSize {
		return false
	}
	if d == nil {
		d = new(mbDecoder)
	}
	mem := d.mem
	var a fastArchive
	if !a.p.parse(data, &d.graph) || a.p.kind(a.p.top) != markerDict {
		return false
	}
	objects, ok := a.p.dictGet(a.p.top, "$objects")
	if !ok || a.p.kind(objects) != markerArray {
		return false
	}
	a.objStart, a.objCount = a.p.items(objects)
	top, ok := a.p.dictGet(a.p.top, "$top")
	if !ok || a.p.kind(top) != markerDict {
		return false
	}
	rootRef, ok := a.p.dictGet(top, "root")
	if !ok {
		return false
	}
	hops := 0
	root, ok := a.resolve(rootRef, &hops)
	if !ok || root == noValue || a.p.kind(root) != markerDict {
		return false
	}

	// One pass over the root's keys; a repeated key keeps its last value, as in a map.
	var f [numMBFields]int
	for i := range f {
		f[i] = noValue
	}
	start, n := a.p.items(root)
	var buf [32]byte
	for k := 0; k < n; k++ {
		name, ok := a.p.asciiKey(a.p.ref(start, k), &buf)
		if !ok {
			continue
		}
		if field := mbFieldOf(name); field >= 0 {
			f[field] = a.p.ref(start, n+k)
		}
	}

	var out Entry
	for _, n := range mbIntegerFields {
		v, ok := a.integer(f[n.field], n.min, n.max, n.anyTime)
		if !ok {
			return false
		}
		switch n.field {
		case fMode:
			out.Mode = uint32(v)
		case fUserID:
			out.UID = uint32(v)
		case fGroupID:
			out.GID = uint32(v)
		case fInode:
			out.Inode = uint64(v)
		case fSize:
			out.Size = v
		case fProtectionClass:
			out.ProtectionClass = uint32(v)
		case fBirth:
			out.Birth = v
		case fLastModified:
			out.MTime = v
		case fLastStatusChange:
			out.CTime = v
		}
	}
	target, ok := a.str(f[fTarget])
	if !ok {
		return false
	}
	digest, ok := a.data(f[fDigest])
	if !ok {
		return false
	}
	key, ok := a.data(f[fEncryptionKey])
	if !ok {
		return false
	}
	xattrs, ok := a.xattrs(f[fExtendedAttributes], d)
	if !ok {
		return false
	}
	out.Kind = kindFromMode(out.Mode)
	if len(key) > 0 {
		if len(key) != 4+WrappedKeyLen {
			return false
		}
		out.WrappedKey = (*[WrappedKeyLen]byte)(mem.clone(key[4:]))
		if out.ProtectionClass == 0 {
			out.ProtectionClass = binary.LittleEndian.Uint32(key)
		}
	}
	var targetStr string
	if target != noValue {
		targetStr = a.p.stringValue(target)
	}
	var digestCopy []byte
	if digest != nil {
		digestCopy = mem.clone(digest)
	}

	e.Kind, e.Mode, e.UID, e.GID, e.Inode, e.Size = out.Kind, out.Mode, out.UID, out.GID, out.Inode, out.Size
	e.Birth, e.MTime, e.CTime, e.ProtectionClass = out.Birth, out.MTime, out.CTime, out.ProtectionClass
	e.WrappedKey = out.WrappedKey
	e.SetExtra(targetStr, digestCopy, xattrs)
	return true
}

// The MBFile fields decodeMBFile reads.
const (
	fMode = iota
	fUserID
	fGroupID
	fInode
	fSize
	fProtectionClass
	fBirth
	fLastModified
	fLastStatusChange
	fTarget
	fDigest
	fEncryptionKey
	fExtendedAttributes
	numMBFields
)

func mbFieldOf(name []byte) int {
	switch string(name) {
	case "Mode":
		return fMode
	case "UserID":
		return fUserID
	case "GroupID":
		return fGroupID
	case "InodeNumber":
		return fInode
	case "Size":
		return fSize
	case "ProtectionClass":
		return fProtectionClass
	case "Birth":
		return fBirth
	case "LastModified":
		return fLastModified
	case "LastStatusChange":
		return fLastStatusChange
	case "Target":
		return fTarget
	case "Digest":
		return fDigest
	case "EncryptionKey":
		return fEncryptionKey
	case "ExtendedAttributes":
		return fExtendedAttributes
	}
	return -1
}

// mbIntegerFields are the numeric fields with the bounds decodeMBFile applies.
var mbIntegerFields = [...]struct {
	field    int
	min, max int64
	anyTime  bool
}{
	{fMode, 0, math.MaxUint32, false},
	{fUserID, math.MinInt32, math.MaxUint32, false},
	{fGroupID, math.MinInt32, math.MaxUint32, false},
	{fInode, 0, math.MaxInt64, false},
	{fSize, 0, math.MaxInt64, false},
	{fProtectionClass, 0, math.MaxUint32, false},
	{fBirth, math.MinInt64, math.MaxInt64, true},
	{fLastModified, math.MinInt64, math.MaxInt64, true},
	{fLastStatusChange, math.MinInt64, math.MaxInt64, true},
}

// noValue stands for an absent field or a reference to "$null" (nil in decodeMBFile).
const noValue = -1

// fastArchive mirrors archive (mbfile.go) over a bplist: values are object indexes,
// and every method reports false where archive's would return an error.
type fastArchive struct {
	p                  bplist
	objStart, objCount int // the references of the $objects array
}

// resolve follows UIDs into $objects like archive.resolve.
func (a *fastArchive) resolve(v int, hops *int) (int, bool) {
	for v != noValue && a.p.kind(v) == markerUID {
		if *hops++; *hops > maxUIDHops {
			return 0, false
		}
		u := a.p.uid(v)
		if u >= uint64(a.objCount) {
			return 0, false
		}
		v = a.p.ref(a.objStart, int(u))
		if a.p.isString(v) && a.p.stringIs(v, "$null") {
			return noValue, true
		}
	}
	return v, true
}

// field resolves the value of key in dictionary d; noValue when absent.
func (a *fastArchive) field(d int, key string, hops *int) (int, bool) {
	v, ok := a.p.dictGet(d, key)
	if !ok {
		return noValue, true
	}
	return a.resolve(v, hops)
}

// integer mirrors archive.integer.
func (a *fastArchive) integer(v int, lo, hi int64, anyTime bool) (int64, bool) {
	hops := 0
	v, ok := a.resolve(v, &hops)
	if !ok {
		return 0, false
	}
	if v == noValue {
		return 0, true
	}
	var n int64
	switch kind := a.p.kind(v); {
	case anyTime && kind == markerDate:
		n = a.p.dateUnix(v)
	case anyTime && kind == markerDict:
		if _, has := a.p.dictGet(v, "NS.time"); !has {
			return 0, false
		}
		nt, ok := a.field(v, "NS.time", &hops)
		if !ok || nt == noValue {
			return 0, false
		}
		var f float64
		switch a.p.kind(nt) {
		case markerReal:
			f = a.p.real(nt)
		case markerInt:
			f = float64(a.p.integer(nt))
		default:
			return 0, false
		}
		if n, ok = floatToInt(f + appleEpoch); !ok {
			return 0, false
		}
	case kind == markerInt:
		n = a.p.integer(v)
	case kind == markerReal:
		if n, ok = floatToInt(a.p.real(v)); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	return n, lo <= n && n <= hi
}

// floatToInt truncates like archive.integer, refusing what it refuses.
func floatToInt(f float64) (int64, bool) {
	if math.IsNaN(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// str mirrors archive.str; it returns the string object, or noValue for "".
func (a *fastArchive) str(v int) (int, bool) {
	hops := 0
	v, ok := a.resolve(v, &hops)
	if !ok || v == noValue {
		return v, ok
	}
	if a.p.kind(v) == markerDict {
		if _, has := a.p.dictGet(v, "NS.string"); !has {
			return 0, false
		}
		if v, ok = a.field(v, "NS.string", &hops); !ok || v == noValue {
			return 0, false
		}
	}
	return v, a.p.isString(v)
}

// data mirrors archive.data; the bytes alias the document (nil when absent).
func (a *fastArchive) data(v int) ([]byte, bool) {
	hops := 0
	v, ok := a.resolve(v, &hops)
	if !ok || v == noValue {
		return nil, ok
	}
	return a.bytesOf(v, &hops)
}

// bytesOf mirrors archive.bytesOf for a resolved value.
func (a *fastArchive) bytesOf(v int, hops *int) ([]byte, bool) {
	if v != noValue && a.p.kind(v) == markerDict {
		if _, has := a.p.dictGet(v, "NS.data"); !has {
			return nil, false
		}
		var ok bool
		if v, ok = a.field(v, "NS.data", hops); !ok {
			return nil, false
		}
	}
	if v == noValue || a.p.kind(v) != markerData {
		return nil, false
	}
	return a.p.payload(v), true
}

// xattrs mirrors archive.xattrs.
func (a *fastArchive) xattrs(v int, d *mbDecoder) (map[string][]byte, bool) {
	mem := d.mem
	hops := 0
	v, ok := a.resolve(v, &hops)
	if !ok || v == noValue {
		return nil, ok
	}
	if a.p.kind(v) == markerDict {
		if _, has := a.p.dictGet(v, "NS.keys"); has {
			return a.archivedDict(v, mem)
		}
	}
	raw, ok := a.bytesOf(v, &hops)
	if !ok {
		return nil, false
	}
	// Apple's form: the bytes are a binary plist dictionary name -> data.
	var q bplist
	if !q.parse(raw, &d.graph) || q.kind(q.top) != markerDict {
		return nil, false
	}
	start, n := q.items(q.top)
	if n == 0 {
		return nil, true
	}
	out := make(map[string][]byte, n)
	for k := 0; k < n; k++ {
		val := q.ref(start, n+k)
		var b []byte
		switch q.kind(val) {
		case markerData:
			b = mem.clone(q.payload(val))
		case markerASCII, markerUTF16:
			b = mem.cloneString(q.stringValue(val))
		default:
			return nil, false
		}
		out[q.stringValue(q.ref(start, k))] = b
	}
	return out, true
}

// archivedDict mirrors archive.archivedDict.
func (a *fastArchive) archivedDict(d int, mem *byteArena) (map[string][]byte, bool) {
	keys, kok := a.p.dictGet(d, "NS.keys")
	vals, vok := a.p.dictGet(d, "NS.objects")
	if !kok || !vok || a.p.kind(keys) != markerArray || a.p.kind(vals) != markerArray {
		return nil, false
	}
	kStart, nk := a.p.items(keys)
	vStart, nv := a.p.items(vals)
	if nk != nv {
		return nil, false
	}
	if nk == 0 {
		return nil, true
	}
	out := make(map[string][]byte, nk)
	for i := 0; i < nk; i++ {
		hops := 0
		k, ok := a.resolve(a.p.ref(kStart, i), &hops)
		if !ok || k == noValue || !a.p.isString(k) {
			return nil, false
		}
		hops = 0
		v, ok := a.resolve(a.p.ref(vStart, i), &hops)
		if !ok {
			return nil, false
		}
		var b []byte
		if v != noValue && a.p.isString(v) {
			b = mem.cloneString(a.p.stringValue(v))
		} else {
			raw, ok := a.bytesOf(v, &hops)
			if !ok {
				return nil, false
			}
			b = mem.clone(raw)
		}
		out[a.p.stringValue(k)] = b
	}
	return out, true
}

// mbDecoder is what decodeMBFileFast keeps from one record to the next: the arena
// its byte slices come from (nil: plain allocations) and its graph walk's memory.
// One per goroutine.
type mbDecoder struct {
	mem   *byteArena
	graph graphScratch
}

// byteArena hands out byte slices carved from large blocks, so that a million small
// keys and digests cost a few dozen allocations instead of a million. Each slice has
// its capacity capped at its length: appending to one can never overwrite another. A
// nil *byteArena allocates each slice on its own.
//
// A block stays alive while any slice in it does: an arena suits data kept together
// (an Index), not a few entries picked out of many.
type byteArena struct {
	block []byte
	next  int // size of the next block
}

const (
	arenaFirstBlock = 16 << 10
	arenaMaxBlock   = 1 << 20
)

// alloc returns n bytes (non-nil even for n == 0, like cloneBytes).
func (m *byteArena) alloc(n int) []byte {
	if m == nil || n == 0 || n > arenaMaxBlock/16 {
		return make([]byte, n)
	}
	if len(m.block)+n > cap(m.block) {
		m.next = min(max(2*m.next, arenaFirstBlock), arenaMaxBlock)
		m.block = make([]byte, 0, m.next)
	}
	at := len(m.block)
	m.block = m.block[:at+n]
	return m.block[at : at+n : at+n]
}

// clone copies b (non-nil) into the arena.
func (m *byteArena) clone(b []byte) []byte {
	out := m.alloc(len(b))
	copy(out, b)
	return out
}

// cloneString copies s into the arena as bytes.
func (m *byteArena) cloneString(s string) []byte {
	out := m.alloc(len(s))
	copy(out, s)
	return out
}

// stringOf copies b into the arena and returns it as a string. The bytes are never
// written again: nothing else is handed that part of the block.
func (m *byteArena) stringOf(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	out := m.clone(b)
	return unsafe.String(unsafe.SliceData(out), len(out))
}
