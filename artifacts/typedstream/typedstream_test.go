package typedstream

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The texts are facts read from the published blobs (see testdata/README.md).
func TestRealBlobsText(t *testing.T) {
	cases := []struct {
		file, text string
		runs       int
	}{
		{"AttributedBodyTextOnly", "Noter test", 1},
		{"Mention", "Test Dad ", 3},
		{"URL", "https://github.com/ReagentX/Logria", 1},
		{"Arabic", "أهلاً بالعالم", 1},
		{"WeirdText", "𝖍𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉", 1},
		{"Blank", "", 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			a, err := DecodeAttributedString(readSample(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if a.Text != c.text {
				t.Errorf("text %q, want %q", a.Text, c.text)
			}
			if len(a.Runs) != c.runs {
				t.Errorf("%d runs, want %d: %+v", len(a.Runs), c.runs, a.Runs)
			}
			// Runs tile the text exactly: the UTF-16 lengths converted to bytes.
			end := 0
			for _, r := range a.Runs {
				if r.Start != end {
					t.Errorf("run starts at %d, previous ended at %d", r.Start, end)
				}
				end = r.End
			}
			if c.runs > 0 && end != len(c.text) {
				t.Errorf("runs end at byte %d, text has %d", end, len(c.text))
			}
		})
	}
}

func TestRealBlobMention(t *testing.T) {
	a, err := DecodeAttributedString(readSample(t, "Mention"))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Mentions(); !slices.Equal(got, []string{"+15558675309"}) {
		t.Fatalf("mentions %q", got)
	}
	r := a.Runs[1]
	if got := a.Text[r.Start:r.End]; got != "Dad" {
		t.Errorf("mention run covers %q, want Dad", got)
	}
	// The third run reuses the first run's attribute dictionary by its id.
	if a.Runs[2].Attrs[AttrMessagePart] != int64(0) || a.Runs[0].Attrs[AttrMessagePart] != int64(0) {
		t.Errorf("message parts %v / %v", a.Runs[0].Attrs, a.Runs[2].Attrs)
	}
}

func TestRealBlobLink(t *testing.T) {
	a, err := DecodeAttributedString(readSample(t, "URL"))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Links(); !slices.Equal(got, []string{"https://github.com/ReagentX/Logria"}) {
		t.Fatalf("links %q", got)
	}
}

func TestRealBlobAttachments(t *testing.T) {
	a, err := DecodeAttributedString(readSample(t, "Attachment"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Text, "\uFFFCThis is how the notes look to me fyi") {
		t.Errorf("text %q", a.Text)
	}
	if got := a.FileTransfers(); !slices.Equal(got, []string{"at_0_2E5F12C3-E649-48AA-954D-3EA67C016BCC"}) {
		t.Errorf("file transfers %q", got)
	}
	if r := a.Runs[0]; a.Text[r.Start:r.End] != "\uFFFC" {
		t.Errorf("the attachment run covers %q", a.Text[r.Start:r.End])
	}

	m, err := DecodeAttributedString(readSample(t, "MultiPart"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "\uFFFCtest 1\uFFFCtest 2 \uFFFCtest 3" {
		t.Errorf("text %q", m.Text)
	}
	if got := m.FileTransfers(); len(got) != 3 || !strings.HasPrefix(got[2], "at_4_") {
		t.Errorf("file transfers %q", got)
	}
}

func TestRealBlobLongText(t *testing.T) {
	a, err := DecodeAttributedString(readSample(t, "LongMessage"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Text) != 2359 || !strings.HasPrefix(a.Text, "Sed nibh velit, sodales") ||
		!strings.HasSuffix(a.Text, "cursus sem nec accumsan.") {
		t.Errorf("text of %d bytes: %.40q...", len(a.Text), a.Text)
	}
}

func TestRealBlobDamaged(t *testing.T) {
	_, err := DecodeAttributedString(readSample(t, "ExtraData"))
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("damaged blob: err %v, want ErrFormat", err)
	}
}

func TestRealBlobArrayWithReferences(t *testing.T) {
	roots, err := Decode(readSample(t, "HugeWithRefs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 {
		t.Fatalf("%d roots", len(roots))
	}
	o, ok := roots[0].(*Object)
	if !ok || !o.IsA("NSArray") || o.Class.Name != "NSMutableArray" {
		t.Fatalf("root %#v", roots[0])
	}
	// NSArray writes its count, then the elements: here one array of 35 arrays.
	if n, _ := o.Values[0].(int64); n != 1 || len(o.Values) != 2 {
		t.Fatalf("root count %d, %d values", n, len(o.Values))
	}
	inner, ok := o.Values[1].(*Object)
	if !ok {
		t.Fatalf("element %#v", o.Values[1])
	}
	if n, _ := inner.Values[0].(int64); n != 35 || len(inner.Values) != 36 {
		t.Errorf("inner count %d, %d values", n, len(inner.Values))
	}
	if _, err := DecodeAttributedString(readSample(t, "HugeWithRefs")); !errors.Is(err, ErrFormat) {
		t.Errorf("an array is not an attributed string: err %v", err)
	}
}

// Hostile lengths must fail without allocating what they claim.
func TestHostileLengths(t *testing.T) {
	head := "\x04\x0bstreamtyped\x81\xe8\x03"
	for name, body := range map[string]string{
		"huge string":     "\x84\x01+\x82\xff\xff\xff\x7fabc",
		"huge char array": "\x84\x0c[2147483647c]abc",
		"huge array":      "\x84\x0c[2147483647i]\x01\x02",
		"negative length": "\x84\x01+\x81\x00\x80",
		"bad reference":   "\x99",
		"self class":      "\x84\x01@\x84\x84\x84\x01A\x00\x93",
		"deep nesting":    "\x84\x01@" + strings.Repeat("\x84\x84\x84\x01A\x00\x85\x92", 200),
		"truncated":       "\x84\x01@\x84\x84",
		"not a header":    "",
	} {
		b := []byte(head + body)
		if name == "not a header" {
			b = []byte("bplist00")
		}
		allocs := testing.AllocsPerRun(5, func() { Decode(b) })
		if allocs > 2000 {
			t.Errorf("%s: %v allocations", name, allocs)
		}
		if _, err := Decode(b); err == nil && name != "self class" {
			t.Errorf("%s: no error", name)
		}
		if _, err := DecodeAttributedString(b); err == nil {
			t.Errorf("%s: decoded as an attributed string", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".md") && len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAttributedString(b)
		if err != nil {
			return
		}
		if !utf8.ValidString(a.Text) {
			t.Fatalf("text not UTF-8")
		}
		prev := 0
		for _, r := range a.Runs {
			if r.Start < prev || r.End < r.Start || r.End > len(a.Text) {
				t.Fatalf("run [%d,%d) out of order or outside %d bytes", r.Start, r.End, len(a.Text))
			}
			prev = r.End
		}
	})
}
