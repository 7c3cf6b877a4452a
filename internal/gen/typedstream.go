package gen

import (
	"encoding/binary"
	"unicode/utf16"
)

// tsWriter writes typedstream archives (NSArchiver's format) of NSAttributedString, as
// iOS 16+ stores message bodies in sms.db's attributedBody. Written from the format's
// public description (the GNU libobjc typedstream.h, the crabstep documentation); the
// artifacts decoder is tested against this writer and, separately, against real blobs.
type tsWriter struct {
	b       []byte
	strings map[string]int // shared strings: type encodings and class names
	classes map[string]int // class name -> object-table slot
	objects int            // slots of the object table used
}

// Tags of the format.
const (
	tsNew   = 0x84
	tsNil   = 0x85
	tsEnd   = 0x86
	tsInt16 = 0x81
	tsInt32 = 0x82
)

func newTSWriter() *tsWriter {
	w := &tsWriter{strings: map[string]int{}, classes: map[string]int{}}
	w.b = append(w.b, 4, 11)
	w.b = append(w.b, "streamtyped"...)
	w.int(1000)
	return w
}

func (w *tsWriter) int(v int64) {
	switch {
	case v >= -110 && v <= 127:
		w.b = append(w.b, byte(int8(v)))
	case v >= -1<<15 && v < 1<<15:
		w.b = append(w.b, tsInt16)
		w.b = binary.LittleEndian.AppendUint16(w.b, uint16(int16(v)))
	default:
		w.b = append(w.b, tsInt32)
		w.b = binary.LittleEndian.AppendUint32(w.b, uint32(int32(v)))
	}
}

// uint writes an unsigned value: one byte below 128, else the wider forms.
func (w *tsWriter) uint(v int64) {
	if v >= 0 && v < 128 {
		w.b = append(w.b, byte(v))
		return
	}
	if v < 1<<15 {
		w.b = append(w.b, tsInt16)
		w.b = binary.LittleEndian.AppendUint16(w.b, uint16(v))
		return
	}
	w.b = append(w.b, tsInt32)
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(v))
}

// ref writes a back-reference to table slot i: labels start at -110.
func (w *tsWriter) ref(i int) { w.int(int64(i) - 110) }

func (w *tsWriter) shared(s string) {
	if i, ok := w.strings[s]; ok {
		w.ref(i)
		return
	}
	w.strings[s] = len(w.strings)
	w.b = append(w.b, tsNew)
	w.int(int64(len(s)))
	w.b = append(w.b, s...)
}

// object starts a new object of the class chain (name, version pairs, most derived
// first, NSObject implied last).
func (w *tsWriter) object(chain ...string) {
	w.b = append(w.b, tsNew)
	w.objects++
	for _, c := range append(chain, "NSObject") {
		if i, ok := w.classes[c]; ok {
			w.ref(i)
			return
		}
		w.b = append(w.b, tsNew)
		w.shared(c)
		version := int64(0)
		if c == "NSString" || c == "NSMutableString" {
			version = 1
		}
		w.int(version)
		w.classes[c] = w.objects
		w.objects++
	}
	w.b = append(w.b, tsNil)
}

func (w *tsWriter) nsString(s string) {
	w.shared("@")
	w.object("NSString")
	w.shared("+")
	w.int(int64(len(s)))
	w.b = append(w.b, s...)
	w.b = append(w.b, tsEnd)
}

func (w *tsWriter) nsNumber(v int64) {
	w.shared("@")
	w.object("NSNumber", "NSValue")
	w.shared("*")
	w.b = append(w.b, tsNew)
	w.objects++ // a C string takes an object slot
	w.shared("q")
	w.shared("q")
	w.int(v)
	w.b = append(w.b, tsEnd)
}

func (w *tsWriter) nsURL(u string) {
	w.shared("@")
	w.object("NSURL")
	w.shared("c")
	w.int(0)
	w.nsString(u)
	w.b = append(w.b, tsEnd)
}

// tsRun is one attribute run: its text and its attributes.
type tsRun struct {
	text    string
	link    string // __kIMLinkAttributeName
	mention string // __kIMMentionConfirmedMention
	part    int64  // __kIMMessagePartAttributeName
}

func (r tsRun) key() tsRun { r.text = ""; return r }

// attributedBody archives runs as an NSAttributedString; runs with the same
// attributes share one dictionary, as NSArchiver writes them.
func attributedBody(runs []tsRun) []byte {
	w := newTSWriter()
	w.shared("@")
	w.object("NSAttributedString")
	var text string
	for _, r := range runs {
		text += r.text
	}
	w.nsString(text)
	ids := map[tsRun]int{}
	for _, r := range runs {
		id, seen := ids[r.key()]
		if !seen {
			id = len(ids) + 1
			ids[r.key()] = id
		}
		w.shared("iI")
		w.int(int64(id))
		w.uint(int64(len(utf16.Encode([]rune(r.text)))))
		if seen {
			continue
		}
		w.shared("@")
		w.object("NSDictionary")
		n := 1
		if r.link != "" {
			n++
		}
		if r.mention != "" {
			n++
		}
		w.shared("i")
		w.int(int64(n))
		if r.mention != "" {
			w.nsString("__kIMMentionConfirmedMention")
			w.nsString(r.mention)
		}
		if r.link != "" {
			w.nsString("__kIMLinkAttributeName")
			w.nsURL(r.link)
		}
		w.nsString("__kIMMessagePartAttributeName")
		w.nsNumber(r.part)
		w.b = append(w.b, tsEnd)
	}
	w.b = append(w.b, tsEnd)
	return w.b
}
