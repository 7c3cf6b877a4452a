package contacts

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"iosbackup/artifacts/internal/gentest"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

func TestContactsMatchTruth(t *testing.T) {
	for _, v := range gentest.Versions {
		t.Run(v.Name, func(t *testing.T) {
			truth, b := gentest.Generate(t, v)
			res, err := Read(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if res.PhotoErr != nil || res.Skipped != 0 || len(res.Contacts) != len(truth.Contacts) {
				t.Fatalf("%d contacts (truth %d), %d skipped, photos: %v", len(res.Contacts), len(truth.Contacts), res.Skipped, res.PhotoErr)
			}
			for i, c := range res.Contacts {
				checkContact(t, &c, &truth.Contacts[i])
			}
		})
	}
}

func labeled(vs []Value) []gen.Labeled {
	var out []gen.Labeled
	for _, v := range vs {
		out = append(out, gen.Labeled{Label: v.Label, Value: v.Value})
	}
	return out
}

func clean(ls []gen.Labeled) []gen.Labeled {
	var out []gen.Labeled
	for _, l := range ls {
		out = append(out, gen.Labeled{Label: strings.TrimSuffix(strings.TrimPrefix(l.Label, "_$!<"), ">!$_"), Value: l.Value})
	}
	return out
}

func checkContact(t *testing.T, c *Contact, w *gen.Contact) {
	t.Helper()
	bday := ""
	if !c.Birthday.IsZero() {
		bday = c.Birthday.Format("2006-01-02")
	}
	if c.ID != w.ID || c.First != w.First || c.Last != w.Last || c.Organization != w.Organization ||
		c.Department != w.Department || c.JobTitle != w.Job || c.Note != w.Note || bday != w.Birthday || c.FullName() != w.FullName {
		t.Errorf("contact %d: %+v, want %+v", w.ID, c, w)
	}
	if !slices.Equal(labeled(c.Phones), clean(w.Phones)) || !slices.Equal(labeled(c.Emails), clean(w.Emails)) ||
		!slices.Equal(labeled(c.URLs), clean(w.URLs)) {
		t.Errorf("contact %d: phones %v emails %v urls %v, want %v %v %v", w.ID, c.Phones, c.Emails, c.URLs, w.Phones, w.Emails, w.URLs)
	}
	if len(c.Addresses) != len(w.Addresses) {
		t.Fatalf("contact %d: addresses %v, want %v", w.ID, c.Addresses, w.Addresses)
	}
	for i, a := range c.Addresses {
		wa := w.Addresses[i]
		if a.Street != wa.Street || a.City != wa.City || a.State != wa.State || a.ZIP != wa.ZIP || a.Country != wa.Country || a.Label != "Home" {
			t.Errorf("contact %d: address %+v, want %+v", w.ID, a, wa)
		}
	}
	if !bytes.Equal(c.Photo, w.Photo) {
		t.Errorf("contact %d: photo of %d bytes, want %d", w.ID, len(c.Photo), len(w.Photo))
	}
}

// The vCards round-trip through go-vcard's decoder with every field the truth has.
func TestVCardRoundTrip(t *testing.T) {
	truth, b := gentest.Generate(t, gentest.Named("iOS17"))
	res, err := Read(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteVCards(&buf, res.Contacts); err != nil {
		t.Fatal(err)
	}
	dec := vcard.NewDecoder(&buf)
	for i, w := range truth.Contacts {
		card, err := dec.Decode()
		if err != nil {
			t.Fatalf("card %d: %v", i, err)
		}
		if card.Value(vcard.FieldVersion) != "4.0" || card.PreferredValue(vcard.FieldFormattedName) != w.FullName {
			t.Errorf("card %d: VERSION %q FN %q, want 4.0 %q", i, card.Value(vcard.FieldVersion), card.PreferredValue(vcard.FieldFormattedName), w.FullName)
		}
		var tels []string
		for _, f := range card[vcard.FieldTelephone] {
			tels = append(tels, f.Value)
		}
		var want []string
		for _, p := range w.Phones {
			want = append(want, p.Value)
		}
		if !slices.Equal(tels, want) {
			t.Errorf("card %d: TEL %q, want %q", i, tels, want)
		}
		if n := card.Name(); w.First != "" && (n == nil || n.GivenName != w.First || n.FamilyName != w.Last) {
			t.Errorf("card %d: N %+v", i, n)
		}
		if w.Birthday != "" && card.Value(vcard.FieldBirthday) != strings.ReplaceAll(w.Birthday, "-", "") {
			t.Errorf("card %d: BDAY %q", i, card.Value(vcard.FieldBirthday))
		}
		if len(w.Addresses) > 0 {
			a := card.Address()
			if a == nil || a.StreetAddress != w.Addresses[0].Street || a.Locality != w.Addresses[0].City {
				t.Errorf("card %d: ADR %+v", i, a)
			}
		}
		if w.Photo != nil && !strings.HasPrefix(card.Value(vcard.FieldPhoto), "data:image/jpeg;base64,") {
			t.Errorf("card %d: PHOTO %.40q", i, card.Value(vcard.FieldPhoto))
		}
	}
	if _, err := dec.Decode(); err == nil {
		t.Error("more cards than contacts")
	}
}

// vobjectPython finds a python3 that imports vobject (Debian python3-vobject): the one
// on PATH, else Debian's own when a pyenv or venv shadows it.
func vobjectPython(t *testing.T) string {
	t.Helper()
	py := testenv.RequireTool(t, "python3")
	for _, p := range []string{py, "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import vobject").Run() == nil {
			return p
		}
	}
	testenv.Unavailable(t, "the python3 vobject module is not installed (Debian package python3-vobject)")
	return ""
}

// A second, independent parser (python3-vobject) reads every card with its FN, N, TEL
// and EMAIL values.
func TestVCardsParseWithVobject(t *testing.T) {
	py := vobjectPython(t)
	truth, b := gentest.Generate(t, gentest.Named("iOS14"))
	res, err := Read(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "all.vcf")
	var buf bytes.Buffer
	if err := WriteVCards(&buf, res.Contacts); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	const script = `
import sys, vobject
for card in vobject.readComponents(open(sys.argv[1], encoding="utf-8").read()):
    tels = ",".join(t.value for t in card.contents.get("tel", []))
    mails = ",".join(e.value for e in card.contents.get("email", []))
    given = card.n.value.given if "n" in card.contents else ""
    photo = card.photo.value[:23] if "photo" in card.contents else ""
    print("\t".join([card.version.value, card.fn.value, given, tels, mails, photo]))
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("vobject: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(truth.Contacts) {
		t.Fatalf("vobject read %d cards, want %d:\n%s", len(lines), len(truth.Contacts), out)
	}
	for i, w := range truth.Contacts {
		var tels, mails []string
		for _, p := range w.Phones {
			tels = append(tels, p.Value)
		}
		for _, e := range w.Emails {
			mails = append(mails, e.Value)
		}
		photo := ""
		if w.Photo != nil {
			photo = "data:image/jpeg;base64,"
		}
		want := strings.Join([]string{"4.0", w.FullName, w.First, strings.Join(tels, ","), strings.Join(mails, ","), photo}, "\t")
		if lines[i] != want {
			t.Errorf("card %d: vobject read %q, want %q", i, lines[i], want)
		}
	}
}
