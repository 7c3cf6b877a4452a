package gen

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// A minimal binary-plist (bplist00) writer for the one shape the generator writes a
// million times: the NSKeyedArchiver form of MBFile. howett.net/plist's generic
// encoder costs about 16 µs and 500 allocations per record (most of a 1M-entry run);
// this one costs about a microsecond. Its output must decode, with howett.net/plist,
// to exactly what howett.net/plist encodes from the same values: the tests check that
// on every kind of record.

type bpKind uint8

const (
	bpInt bpKind = iota
	bpUID
	bpString
	bpData
	bpArray
	bpDict
)

// bpObject is one object of the flat object table. Arrays and dicts refer to other
// objects by index (dicts: all keys, then all values).
type bpObject struct {
	kind bpKind
	n    uint64 // int (as two's complement) or UID
	s    string
	b    []byte
	refs []int
}

type bpWriter struct {
	objects []bpObject
}

func (w *bpWriter) add(o bpObject) int {
	w.objects = append(w.objects, o)
	return len(w.objects) - 1
}

func (w *bpWriter) int(v int64) int       { return w.add(bpObject{kind: bpInt, n: uint64(v)}) }
func (w *bpWriter) uid(v int) int         { return w.add(bpObject{kind: bpUID, n: uint64(v)}) }
func (w *bpWriter) str(s string) int      { return w.add(bpObject{kind: bpString, s: s}) }
func (w *bpWriter) data(b []byte) int     { return w.add(bpObject{kind: bpData, b: b}) }
func (w *bpWriter) array(refs ...int) int { return w.add(bpObject{kind: bpArray, refs: refs}) }

// dict adds a dictionary from alternating key and value object indexes.
func (w *bpWriter) dict(kv ...int) int {
	refs := make([]int, len(kv))
	for i := 0; i < len(kv)/2; i++ {
		refs[i] = kv[2*i]
		refs[len(kv)/2+i] = kv[2*i+1]
	}
	return w.add(bpObject{kind: bpDict, refs: refs})
}

// encode lays out the objects, offset table and trailer, with top as the root.
func (w *bpWriter) encode(top int) ([]byte, error) {
	if len(w.objects) > 255 {
		return nil, fmt.Errorf("bplist: %d objects, this writer uses 1-byte references", len(w.objects))
	}
	out := make([]byte, 0, 512)
	out = append(out, "bplist00"...)
	offsets := make([]int, len(w.objects))
	for i, o := range w.objects {
		offsets[i] = len(out)
		switch o.kind {
		case bpInt:
			out = appendBPInt(out, o.n)
		case bpUID:
			n := bytesFor(o.n)
			out = append(out, 0x80|byte(n-1))
			out = appendBE(out, o.n, n)
		case bpString:
			if isASCII(o.s) {
				out = appendBPMarker(out, 0x50, len(o.s))
				out = append(out, o.s...)
				break
			}
			if !utf8.ValidString(o.s) {
				return nil, fmt.Errorf("bplist: string %q is not UTF-8", o.s)
			}
			units := utf16.Encode([]rune(o.s))
			out = appendBPMarker(out, 0x60, len(units))
			for _, u := range units {
				out = binary.BigEndian.AppendUint16(out, u)
			}
		case bpData:
			out = appendBPMarker(out, 0x40, len(o.b))
			out = append(out, o.b...)
		case bpArray:
			out = appendBPMarker(out, 0xA0, len(o.refs))
			for _, r := range o.refs {
				out = append(out, byte(r))
			}
		case bpDict:
			out = appendBPMarker(out, 0xD0, len(o.refs)/2)
			for _, r := range o.refs {
				out = append(out, byte(r))
			}
		}
	}
	tableOffset := len(out)
	offsetSize := bytesFor(uint64(tableOffset))
	if offsetSize > 2 {
		offsetSize = 4
	}
	for _, off := range offsets {
		out = appendBE(out, uint64(off), offsetSize)
	}
	out = append(out, 0, 0, 0, 0, 0, 0, byte(offsetSize), 1)
	out = binary.BigEndian.AppendUint64(out, uint64(len(w.objects)))
	out = binary.BigEndian.AppendUint64(out, uint64(top))
	out = binary.BigEndian.AppendUint64(out, uint64(tableOffset))
	return out, nil
}

// appendBPInt writes an integer object: 1, 2 or 4 bytes unsigned when it fits,
// otherwise 8 bytes (signed, as Apple reads them).
func appendBPInt(out []byte, v uint64) []byte {
	switch {
	case v <= math.MaxUint8:
		return append(out, 0x10, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(out, 0x11), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(out, 0x12), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(out, 0x13), v)
}

// appendBPMarker writes a type marker with its count: inline below 15, else 0x?F
// followed by an integer object.
func appendBPMarker(out []byte, marker byte, n int) []byte {
	if n < 15 {
		return append(out, marker|byte(n))
	}
	return appendBPInt(append(out, marker|0x0F), uint64(n))
}

func bytesFor(v uint64) int {
	switch {
	case v <= math.MaxUint8:
		return 1
	case v <= math.MaxUint16:
		return 2
	case v <= math.MaxUint32:
		return 4
	}
	return 8
}

func appendBE(out []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		out = append(out, byte(v>>(8*i)))
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
