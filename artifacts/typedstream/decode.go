package typedstream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Tags of the format (see the package documentation).
const (
	tagInt16  = 0x81
	tagInt32  = 0x82
	tagFloat  = 0x83
	tagNew    = 0x84
	tagNil    = 0x85
	tagEnd    = 0x86
	tagInt64  = 0x87
	firstRef  = -110 // the label of table slot 0 (the byte 0x92)
	signature = "streamtyped"
)

// maxDepth bounds nesting (objects in objects, arrays in arrays): a real attributed
// string nests four deep; a hostile one must not exhaust the stack.
const maxDepth = 64

// ErrFormat is wrapped by every decoding error.
var ErrFormat = errors.New("typedstream: malformed")

// Class is an archived class: its name, version and superclass (nil at NSObject).
type Class struct {
	Name    string
	Version int64
	Super   *Class
}

// Object is an archived object: its class and the values its class chain wrote, in
// order, flattened across type groups. A value is one of: int64 (signed integers),
// uint64 (unsigned), float64, []byte ('+' strings and "[Nc]" arrays), CString ('*' and
// ':'), *Object, *Class, []any (other arrays), or nil (a nil object or NULL string).
type Object struct {
	Class  *Class
	Values []any
}

// CString is a C string or selector value.
type CString string

// IsA reports whether o's class or one of its superclasses is named name.
func (o *Object) IsA(name string) bool {
	if o == nil {
		return false
	}
	// Bounded: a hostile chain may loop back on itself.
	for c, n := o.Class, 0; c != nil && n <= maxDepth; c, n = c.Super, n+1 {
		if c.Name == name {
			return true
		}
	}
	return false
}

// Decode reads a typedstream and returns its root values (an attributedBody holds one:
// the NSAttributedString object).
func Decode(b []byte) ([]any, error) {
	d := &decoder{b: b}
	if err := d.header(); err != nil {
		return nil, err
	}
	var roots []any
	for d.pos < len(d.b) {
		vals, err := d.group(0)
		if err != nil {
			return roots, err
		}
		roots = append(roots, vals...)
	}
	return roots, nil
}

type decoder struct {
	b       []byte
	pos     int
	strings [][]byte // shared strings: type encodings and class names
	objects []any    // *Object, *Class and CString, in the order they were read
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrFormat, d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) byte() (byte, error) {
	if d.pos >= len(d.b) {
		return 0, d.errorf("unexpected end")
	}
	c := d.b[d.pos]
	d.pos++
	return c, nil
}

func (d *decoder) peek() (byte, error) {
	if d.pos >= len(d.b) {
		return 0, d.errorf("unexpected end")
	}
	return d.b[d.pos], nil
}

func (d *decoder) take(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(d.b)-d.pos) {
		return nil, d.errorf("length %d exceeds the %d bytes left", n, len(d.b)-d.pos)
	}
	s := d.b[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s, nil
}

func (d *decoder) header() error {
	v, err := d.byte()
	if err != nil {
		return err
	}
	if v != 4 {
		return d.errorf("version %d, want 4", v)
	}
	n, err := d.int()
	if err != nil {
		return err
	}
	sig, err := d.take(n)
	if err != nil {
		return err
	}
	if string(sig) != signature {
		return d.errorf("signature %q, want %q", sig, signature)
	}
	_, err = d.int() // system version, 1000 on every Apple platform seen
	return err
}

// intAfter reads an integer whose first byte c was already consumed.
func (d *decoder) intAfter(c byte) (int64, error) {
	switch c {
	case tagInt16:
		s, err := d.take(2)
		if err != nil {
			return 0, err
		}
		return int64(int16(binary.LittleEndian.Uint16(s))), nil
	case tagInt32:
		s, err := d.take(4)
		if err != nil {
			return 0, err
		}
		return int64(int32(binary.LittleEndian.Uint32(s))), nil
	case tagInt64:
		s, err := d.take(8)
		if err != nil {
			return 0, err
		}
		return int64(binary.LittleEndian.Uint64(s)), nil
	}
	return int64(int8(c)), nil
}

func (d *decoder) int() (int64, error) {
	c, err := d.byte()
	if err != nil {
		return 0, err
	}
	return d.intAfter(c)
}

// label turns a reference tag into a table index.
func (d *decoder) label(c byte, n int) (int, error) {
	l, err := d.intAfter(c)
	if err != nil {
		return 0, err
	}
	i := l - firstRef
	if i < 0 || i >= int64(n) {
		return 0, d.errorf("reference %d outside a table of %d", i, n)
	}
	return int(i), nil
}

// sharedString reads a shared string: new, nil (returned as nil, true), or a reference.
func (d *decoder) sharedString() ([]byte, bool, error) {
	c, err := d.byte()
	if err != nil {
		return nil, false, err
	}
	switch c {
	case tagNil:
		return nil, true, nil
	case tagNew:
		n, err := d.int()
		if err != nil {
			return nil, false, err
		}
		s, err := d.take(n)
		if err != nil {
			return nil, false, err
		}
		d.strings = append(d.strings, s)
		return s, false, nil
	case tagEnd:
		return nil, false, d.errorf("end tag where a string was expected")
	}
	i, err := d.label(c, len(d.strings))
	if err != nil {
		return nil, false, err
	}
	return d.strings[i], false, nil
}

// group reads one type encoding and its values.
func (d *decoder) group(depth int) ([]any, error) {
	enc, isNil, err := d.sharedString()
	if err != nil {
		return nil, err
	}
	if isNil || len(enc) == 0 {
		return nil, d.errorf("empty type encoding")
	}
	var vals []any
	for rest := enc; len(rest) > 0; {
		var v any
		v, rest, err = d.value(rest, depth)
		if err != nil {
			return vals, err
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// value reads the value of the first type in enc and returns the remaining types.
func (d *decoder) value(enc []byte, depth int) (any, []byte, error) {
	if depth > maxDepth {
		return nil, nil, d.errorf("nested more than %d deep", maxDepth)
	}
	t, rest := enc[0], enc[1:]
	switch t {
	case '@':
		o, err := d.object(depth + 1)
		if o == nil {
			return nil, rest, err // an untyped nil, not a nil *Object in an interface
		}
		return o, rest, err
	case '#':
		c, err := d.class(depth + 1)
		if c == nil {
			return nil, rest, err
		}
		return c, rest, err
	case '+':
		n, err := d.int()
		if err != nil {
			return nil, nil, err
		}
		s, err := d.take(n)
		return s, rest, err
	case '*', ':':
		c, err := d.byte()
		if err != nil {
			return nil, nil, err
		}
		if c == tagNil {
			return nil, rest, nil
		}
		if c != tagNew {
			// A C string seen before: a reference into the object table.
			i, err := d.label(c, len(d.objects))
			if err != nil {
				return nil, nil, err
			}
			s, ok := d.objects[i].(CString)
			if !ok {
				return nil, nil, d.errorf("reference %d is not a C string", i)
			}
			return s, rest, nil
		}
		// A new C string takes a slot of the object table; its characters are a
		// shared string.
		s, isNil, err := d.sharedString()
		if err != nil || isNil {
			return nil, rest, err
		}
		d.objects = append(d.objects, CString(s))
		return CString(s), rest, nil
	case 'c', 'i', 's', 'l', 'q', 'B':
		v, err := d.int()
		return v, rest, err
	case 'C', 'I', 'S', 'L', 'Q':
		c, err := d.byte()
		if err != nil {
			return nil, nil, err
		}
		if c == tagInt16 || c == tagInt32 || c == tagInt64 {
			v, err := d.intAfter(c)
			return uint64(v), rest, err
		}
		return uint64(c), rest, nil
	case 'f', 'd':
		c, err := d.byte()
		if err != nil {
			return nil, nil, err
		}
		if c != tagFloat {
			v, err := d.intAfter(c)
			return float64(v), rest, err
		}
		if t == 'f' {
			s, err := d.take(4)
			if err != nil {
				return nil, nil, err
			}
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(s))), rest, nil
		}
		s, err := d.take(8)
		if err != nil {
			return nil, nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(s)), rest, nil
	case '[':
		return d.array(enc, depth)
	}
	return nil, nil, d.errorf("unsupported type %q", t)
}

// array reads "[N<type>]": raw bytes for chars, else N values.
func (d *decoder) array(enc []byte, depth int) (any, []byte, error) {
	i := 1
	for i < len(enc) && enc[i] >= '0' && enc[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(string(enc[1:i]), 10, 64)
	if err != nil || i >= len(enc) {
		return nil, nil, d.errorf("bad array type %q", enc)
	}
	elem, close, ok := splitArrayElem(enc[i:])
	if !ok {
		return nil, nil, d.errorf("bad array type %q", enc)
	}
	rest := enc[i+close+1:]
	if len(elem) == 1 && (elem[0] == 'c' || elem[0] == 'C') {
		s, err := d.take(n)
		return s, rest, err
	}
	// Every element takes at least one byte, so n is bounded by what is left.
	if n < 0 || n > int64(len(d.b)-d.pos) {
		return nil, nil, d.errorf("array of %d elements exceeds the %d bytes left", n, len(d.b)-d.pos)
	}
	out := make([]any, 0, n)
	for range n {
		var v any
		v, _, err = d.value(elem, depth+1)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, v)
	}
	return out, rest, nil
}

// splitArrayElem finds the element type of an array encoding (after the count) and the
// index of its closing bracket. Only single-value element types are supported.
func splitArrayElem(s []byte) (elem []byte, closeAt int, ok bool) {
	level := 0
	for i, c := range s {
		switch c {
		case '[':
			level++
		case ']':
			if level == 0 {
				e := s[:i]
				return e, i, len(e) > 0 && (len(e) == 1 || e[0] == '[')
			}
			level--
		}
	}
	return nil, 0, false
}

// object reads an object: nil, a reference, or a new one with its class chain and
// contents up to the end tag.
func (d *decoder) object(depth int) (*Object, error) {
	if depth > maxDepth {
		return nil, d.errorf("nested more than %d deep", maxDepth)
	}
	c, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case tagNil:
		return nil, nil
	case tagEnd:
		return nil, d.errorf("end tag where an object was expected")
	case tagNew:
	default:
		i, err := d.label(c, len(d.objects))
		if err != nil {
			return nil, err
		}
		o, ok := d.objects[i].(*Object)
		if !ok {
			return nil, d.errorf("reference %d is a class, not an object", i)
		}
		return o, nil
	}
	o := &Object{}
	d.objects = append(d.objects, o) // the slot is taken before the class is read
	if o.Class, err = d.class(depth); err != nil {
		return nil, err
	}
	for {
		c, err := d.peek()
		if err != nil {
			return nil, err
		}
		if c == tagEnd {
			d.pos++
			return o, nil
		}
		vals, err := d.group(depth)
		if err != nil {
			return nil, err
		}
		o.Values = append(o.Values, vals...)
	}
}

// class reads a class chain: new classes each with name and version, ending in nil or
// a reference to a class already read.
func (d *decoder) class(depth int) (*Class, error) {
	var first, last *Class
	for n := 0; ; n++ {
		if n > maxDepth {
			return nil, d.errorf("class chain longer than %d", maxDepth)
		}
		c, err := d.byte()
		if err != nil {
			return nil, err
		}
		var next *Class
		switch c {
		case tagNil:
			return first, nil
		case tagEnd:
			return nil, d.errorf("end tag where a class was expected")
		case tagNew:
			name, isNil, err := d.sharedString()
			if err != nil {
				return nil, err
			}
			if isNil {
				return nil, d.errorf("class without a name")
			}
			version, err := d.int()
			if err != nil {
				return nil, err
			}
			next = &Class{Name: string(name), Version: version}
			d.objects = append(d.objects, next)
		default:
			i, err := d.label(c, len(d.objects))
			if err != nil {
				return nil, err
			}
			ref, ok := d.objects[i].(*Class)
			if !ok {
				return nil, d.errorf("reference %d is an object, not a class", i)
			}
			next = ref
		}
		if first == nil {
			first = next
		} else {
			last.Super = next
		}
		if c != tagNew {
			return first, nil // a reference brings its own superclasses
		}
		last = next
	}
}
