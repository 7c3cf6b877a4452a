package manifest

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"howett.net/plist"
)

// maxPlistDepth bounds how deeply containers may nest in any property list handed to
// howett.net/plist. Its decoder recurses once per level and, for binary plists, looks
// for self-reference by scanning the chain of open containers, so a hostile document
// nested a million levels deep costs quadratic time and can exhaust the goroutine stack
// (a fatal error, not a recoverable panic). No plist of a backup nests more than about
// six levels.
const maxPlistDepth = 32

// decodePlist checks data with checkPlist, then unmarshals it into v. Any panic left in
// the decoder is turned into an error: the data comes from the backup, not from us.
func decodePlist(data []byte, v any) (err error) {
	if err := checkPlist(data); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed property list (decoder failed: %v)", r)
		}
	}()
	_, err = plist.Unmarshal(data, v)
	return err
}

// checkPlist accepts binary ("bplist00") and XML property lists whose nesting stays
// within maxPlistDepth. Binary plists are also refused when decoding them into Go values
// would expand shared containers into far more nodes than the document holds (each
// reference in a binary plist may point at a container used elsewhere: a dozen levels
// of two references each already make millions of values). The OpenStep text format,
// which howett.net/plist would otherwise try as a fallback, is refused: no backup
// writer produces it.
func checkPlist(data []byte) error {
	if bytes.HasPrefix(data, []byte("bplist")) {
		return checkBinaryPlist(data)
	}
	return checkXMLPlist(data)
}

func checkXMLPlist(data []byte) error {
	rest := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(rest) == 0 || rest[0] != '<' {
		return errors.New("not an XML or binary property list")
	}
	// Token (not RawToken) also checks that tags match, so a document passing here
	// is well-formed and the decoder will not fall back to the text format.
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, elements := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("malformed XML property list: %w", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			elements++
			depth++
			if depth > maxPlistDepth+1 { // +1 for the <plist> element itself
				return fmt.Errorf("XML property list nested deeper than %d levels", maxPlistDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
	if elements == 0 {
		return errors.New("XML property list has no elements")
	}
	return nil
}

// checkBinaryPlist walks the object graph of a binary plist from its top object, as
// the decoder will, without recursion and without decoding any value. A cycle shows up
// as nesting beyond maxPlistDepth.
func checkBinaryPlist(b []byte) error {
	const trailerLen = 32
	if len(b) < 8+1+trailerLen {
		return errors.New("binary property list too short")
	}
	if string(b[:8]) != "bplist00" {
		return fmt.Errorf("unsupported binary property list version %q", b[6:8])
	}
	t := b[len(b)-trailerLen:]
	var (
		offSize    = uint64(t[6])
		refSize    = uint64(t[7])
		numObjects = binary.BigEndian.Uint64(t[8:])
		topObject  = binary.BigEndian.Uint64(t[16:])
		tableOff   = binary.BigEndian.Uint64(t[24:])
		trailerOff = uint64(len(b) - trailerLen)
	)
	switch {
	case offSize < 1 || offSize > 8 || refSize < 1 || refSize > 8:
		return fmt.Errorf("binary property list: bad integer sizes (offsets %d, references %d)", offSize, refSize)
	case tableOff < 9 || tableOff > trailerOff:
		return fmt.Errorf("binary property list: offset table at %d outside the document", tableOff)
	case numObjects == 0 || numObjects > (trailerOff-tableOff)/offSize:
		return fmt.Errorf("binary property list: %d objects do not fit the offset table", numObjects)
	case topObject >= numObjects:
		return fmt.Errorf("binary property list: top object %d out of range", topObject)
	}
	readUint := func(at, size uint64) uint64 {
		var v uint64
		for _, c := range b[at : at+size] {
			v = v<<8 | uint64(c)
		}
		return v
	}
	// children locates the references of object i: n references of refSize bytes at
	// pos; n is 0 for anything that is not an array, set or dictionary.
	children := func(i uint64) (pos, n uint64, err error) {
		off := readUint(tableOff+i*offSize, offSize)
		if off < 8 || off >= tableOff {
			return 0, 0, fmt.Errorf("binary property list: object %d at offset %d outside the object area", i, off)
		}
		marker := b[off]
		var perItem uint64
		switch marker >> 4 {
		case 0xA, 0xC: // array, set
			perItem = 1
		case 0xD: // dictionary: keys, then values
			perItem = 2
		default:
			return 0, 0, nil
		}
		count, pos := uint64(marker&0xF), off+1
		if count == 0xF { // the count follows as an integer object
			if pos >= tableOff || b[pos]>>4 != 0x1 || b[pos]&0xF > 3 {
				return 0, 0, fmt.Errorf("binary property list: object %d has a malformed count", i)
			}
			size := uint64(1) << (b[pos] & 0xF)
			if pos+1+size > tableOff {
				return 0, 0, fmt.Errorf("binary property list: object %d count runs past the object area", i)
			}
			count, pos = readUint(pos+1, size), pos+1+size
		}
		if count > (tableOff-pos)/refSize/perItem {
			return 0, 0, fmt.Errorf("binary property list: object %d claims %d items, more than fit", i, count)
		}
		return pos, count * perItem, nil
	}

	// Every reference costs at least one byte, so a plist without shared containers
	// expands to at most about len(b) values; allow generous sharing beyond that.
	maxNodes := 4*uint64(len(b)) + 1024
	type frame struct{ pos, n, next uint64 }
	// The nesting is bounded, so the stack lives in a fixed array: this runs for every
	// row of a Manifest.db, and a growing slice cost 150 bytes of garbage each time.
	var stackBuf [maxPlistDepth]frame
	stack := stackBuf[:0]
	nodes := uint64(0)
	visit := func(i uint64) error {
		if nodes++; nodes > maxNodes {
			return fmt.Errorf("binary property list expands to more than %d values (shared containers)", maxNodes)
		}
		pos, n, err := children(i)
		if err != nil || n == 0 {
			return err
		}
		if len(stack) >= maxPlistDepth {
			return fmt.Errorf("binary property list nested deeper than %d levels (or cyclic)", maxPlistDepth)
		}
		stack = append(stack, frame{pos: pos, n: n})
		return nil
	}
	if err := visit(topObject); err != nil {
		return err
	}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next == f.n {
			stack = stack[:len(stack)-1]
			continue
		}
		ref := readUint(f.pos+f.next*refSize, refSize)
		f.next++
		if ref >= numObjects {
			return fmt.Errorf("binary property list: reference to object %d of %d", ref, numObjects)
		}
		if err := visit(ref); err != nil {
			return err
		}
	}
	return nil
}

// DecodePlist unmarshals a property list that came from a backup into v, guarded as
// this package's own readers are: nesting is bounded before howett.net/plist sees the
// data, and a panic in the decoder is an error. Other packages reading plists out of
// backup files (message_summary_info in sms.db, say) use it rather than plist.Unmarshal.
func DecodePlist(data []byte, v any) error { return decodePlist(data, v) }
