package typedstream

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Attribute names iMessage puts on runs of an attributedBody.
const (
	AttrLink         = "__kIMLinkAttributeName"             // an NSURL
	AttrMention      = "__kIMMentionConfirmedMention"       // the mentioned handle
	AttrFileTransfer = "__kIMFileTransferGUIDAttributeName" // an attachment's GUID
	AttrMessagePart  = "__kIMMessagePartAttributeName"      // the part number
	AttrDataDetected = "__kIMDataDetectedAttributeName"     // an archived DDScannerResult
	AttrWritingDir   = "__kIMBaseWritingDirectionAttributeName"
)

// Run is one attribute run of an attributed string. Start and End are byte offsets into
// Text (the archive counts UTF-16 units; they are converted). Attrs holds the run's
// attributes whose values are strings, numbers or URLs (as strings); others, such as
// archived data, are left out.
type Run struct {
	Start, End int
	Attrs      map[string]any
}

// String returns the run's attribute name as a string, or "".
func (r Run) String(name string) string {
	s, _ := r.Attrs[name].(string)
	return s
}

// AttributedString is the decoded text and its runs.
type AttributedString struct {
	Text string
	Runs []Run
}

// Links returns the link URLs of the runs, in order; adjacent runs of one link count once.
func (a *AttributedString) Links() []string { return a.values(AttrLink) }

// Mentions returns the handles mentioned, in order.
func (a *AttributedString) Mentions() []string { return a.values(AttrMention) }

// FileTransfers returns the attachment GUIDs the text refers to, in order.
func (a *AttributedString) FileTransfers() []string { return a.values(AttrFileTransfer) }

func (a *AttributedString) values(name string) []string {
	var out []string
	for i, r := range a.Runs {
		// Adjacent runs split by another attribute (bold, say) repeat the link.
		if s := r.String(name); s != "" && (i == 0 || a.Runs[i-1].String(name) != s) {
			out = append(out, s)
		}
	}
	return out
}

// DecodeAttributedString decodes an attributedBody: an archived NSAttributedString (or
// NSMutableAttributedString). Text that is not valid UTF-8 is an error: the archive
// stores UTF-8 and a broken one is damage, not a message.
func DecodeAttributedString(b []byte) (*AttributedString, error) {
	roots, err := Decode(b)
	if err != nil && len(roots) == 0 {
		return nil, err
	}
	// A damaged tail after the root object (seen in the wild: padding) does not spoil
	// the text when the root itself was read whole.
	for _, r := range roots {
		o, ok := r.(*Object)
		if !ok || !o.IsA("NSAttributedString") {
			continue
		}
		return attributedString(o)
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: no NSAttributedString in the archive", ErrFormat)
}

func attributedString(o *Object) (*AttributedString, error) {
	if len(o.Values) == 0 {
		return nil, fmt.Errorf("%w: empty NSAttributedString", ErrFormat)
	}
	text, ok := stringOf(o.Values[0], 0)
	if !ok {
		return nil, fmt.Errorf("%w: NSAttributedString without its string", ErrFormat)
	}
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("%w: the text is not UTF-8", ErrFormat)
	}
	a := &AttributedString{Text: text}
	offsets := utf16Offsets(text)
	dicts := map[int64]map[string]any{}
	units := 0
	vals := o.Values[1:]
	for len(vals) >= 2 {
		id, ok1 := asInt(vals[0])
		n, ok2 := asInt(vals[1])
		if !ok1 || !ok2 || n < 0 {
			break
		}
		vals = vals[2:]
		attrs, seen := dicts[id]
		if len(vals) > 0 {
			if d, ok := vals[0].(*Object); ok && d.IsA("NSDictionary") {
				attrs = dictionary(d)
				dicts[id] = attrs
				vals = vals[1:]
			} else if !seen {
				attrs = nil
			}
		}
		start := units
		units += int(min(n, int64(len(offsets))))
		if units >= len(offsets) {
			units = len(offsets) - 1
		}
		a.Runs = append(a.Runs, Run{Start: offsets[start], End: offsets[units], Attrs: attrs})
	}
	return a, nil
}

// utf16Offsets maps each UTF-16 unit index of s (and the end) to a byte offset. The
// second unit of a surrogate pair maps to the start of its rune's successor, so a run
// boundary inside a pair (never written by Apple) cannot split a rune.
func utf16Offsets(s string) []int {
	out := make([]int, 0, len(s)+1)
	for i, r := range s {
		out = append(out, i)
		if utf16.RuneLen(r) == 2 {
			out = append(out, i+utf8.RuneLen(r))
		}
	}
	return append(out, len(s))
}

// dictionary turns an archived NSDictionary into a map of its string keys to the values
// that have a plain form.
func dictionary(d *Object) map[string]any {
	vals := d.Values
	if len(vals) == 0 {
		return nil
	}
	count, ok := asInt(vals[0])
	if !ok || count < 0 {
		return nil
	}
	out := map[string]any{}
	vals = vals[1:]
	for i := int64(0); i < count && len(vals) >= 2; i++ {
		k, ok := stringOf(vals[0], 0)
		if ok {
			if v, ok := plainValue(vals[1]); ok {
				out[k] = v
			}
		}
		vals = vals[2:]
	}
	return out
}

// plainValue gives strings, numbers and URLs their Go form.
func plainValue(v any) (any, bool) {
	o, ok := v.(*Object)
	if !ok {
		return nil, false
	}
	switch {
	case o.IsA("NSString"), o.IsA("NSURL"):
		return stringOf(o, 0)
	case o.IsA("NSNumber"):
		// NSValue writes the objCType as a C string, NSNumber then the value.
		for _, x := range o.Values {
			switch n := x.(type) {
			case int64, uint64, float64:
				return n, true
			}
		}
	}
	return nil, false
}

// stringOf reads the text of an NSString (its '+' bytes) or of an NSURL (its relative
// string, an NSString inside).
func stringOf(v any, depth int) (string, bool) {
	o, ok := v.(*Object)
	if !ok || depth > 4 {
		return "", false
	}
	for _, x := range o.Values {
		switch s := x.(type) {
		case []byte:
			if o.IsA("NSString") {
				return string(s), true
			}
		case *Object:
			if o.IsA("NSURL") && s != o {
				return stringOf(s, depth+1)
			}
		}
	}
	return "", false
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		if n > 1<<62 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}
