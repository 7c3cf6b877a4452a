package manifest

import (
	"encoding/binary"
	"strings"
	"testing"
)

// rawBplist lays out a binary plist from pre-encoded objects, with 2-byte object
// references and 4-byte offsets, so tests can build shapes no encoder would produce.
func rawBplist(objects [][]byte, top uint64) []byte {
	b := []byte("bplist00")
	offsets := make([]uint32, len(objects))
	for i, o := range objects {
		offsets[i] = uint32(len(b))
		b = append(b, o...)
	}
	table := uint64(len(b))
	for _, off := range offsets {
		b = binary.BigEndian.AppendUint32(b, off)
	}
	trailer := make([]byte, 32)
	trailer[6], trailer[7] = 4, 2
	binary.BigEndian.PutUint64(trailer[8:], uint64(len(objects)))
	binary.BigEndian.PutUint64(trailer[16:], top)
	binary.BigEndian.PutUint64(trailer[24:], table)
	return append(b, trailer...)
}

func array(refs ...uint16) []byte {
	o := []byte{0xA0 | byte(len(refs))}
	for _, r := range refs {
		o = binary.BigEndian.AppendUint16(o, r)
	}
	return o
}

func TestCheckPlistRejectsBombs(t *testing.T) {
	one := []byte{0x10, 0x01} // the integer 1

	// Each array holds the next one twice: 2^31 values once expanded, in 300 bytes.
	var shared [][]byte
	for i := 0; i < 30; i++ {
		shared = append(shared, array(uint16(i+1), uint16(i+1)))
	}
	shared = append(shared, one)

	// A chain of single-element arrays 100 levels deep.
	var deep [][]byte
	for i := 0; i < 100; i++ {
		deep = append(deep, array(uint16(i+1)))
	}
	deep = append(deep, one)

	cases := map[string]struct {
		data []byte
		want string
	}{
		"shared containers": {rawBplist(shared, 0), "expands"},
		"deep nesting":      {rawBplist(deep, 0), "deeper"},
		"self reference":    {rawBplist([][]byte{array(0)}, 0), "deeper"},
		"dangling ref":      {rawBplist([][]byte{array(5)}, 0), "reference to object 5"},
		"top out of range":  {rawBplist([][]byte{one}, 3), "top object"},
		"count past end":    {rawBplist([][]byte{{0xAF, 0x13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}}, 0), "more than fit"},
		"object offset bad": {func() []byte { b := rawBplist([][]byte{one}, 0); b[10] = 0xFF; return b }(), "outside the object area"},
		"deep XML":          {[]byte("<plist>" + strings.Repeat("<array>", 100) + strings.Repeat("</array>", 100) + "</plist>"), "deeper"},
		"mismatched XML":    {[]byte("<plist><array></dict></plist>"), "malformed XML"},
		"text format":       {[]byte("(a, (b, (c)))"), "not an XML or binary"},
		"bplist15":          {append([]byte("bplist15"), make([]byte, 40)...), "version"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var v any
			err := decodePlist(c.data, &v)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}

	// Within the limits, the same builder's output decodes: 511 values in 90 bytes.
	var ok [][]byte
	for i := 0; i < 8; i++ {
		ok = append(ok, array(uint16(i+1), uint16(i+1)))
	}
	ok = append(ok, one)
	var v any
	if err := decodePlist(rawBplist(ok, 0), &v); err != nil {
		t.Fatalf("511-value plist refused: %v", err)
	}
	if err := decodePlist([]byte("\xef\xbb\xbf <?xml version=\"1.0\"?><plist><array><integer>1</integer></array></plist>"), &v); err != nil {
		t.Fatalf("XML with BOM refused: %v", err)
	}
}
