package manifest

import (
	"errors"
	"testing"
)

// placeIndex is a small backup where domains meet on the device: HealthDomain sits at
// /var/mobile/Library inside HomeDomain's /var/mobile, and both hold Health/x.db.
func placeIndex(t *testing.T) *Index {
	t.Helper()
	file := func(d, p string) Entry { return Entry{Domain: d, Path: p, Kind: KindFile, Mode: 0o100644} }
	dir := func(d, p string) Entry { return Entry{Domain: d, Path: p, Kind: KindDir, Mode: 0o040755} }
	ix, _ := NewIndex([]Entry{
		file("HomeDomain", "Library/SMS/sms.db"),
		file("HomeDomain", "Library/Health/x.db"),
		file("HomeDomain", "Library/Notes"),
		dir("HealthDomain", "Health"),
		file("HealthDomain", "Health/x.db"),
		file("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.HEIC"),
		file("AppDomain-com.example.notes", "Documents/a.txt"),
		file("AppDomainGroup-group.com.example", "Library/b.txt"),
		dir("HealthDomain", "Notes"),
	})
	return ix
}

func TestResolveForms(t *testing.T) {
	ix := placeIndex(t)
	sms, _ := ix.Lookup("HomeDomain", "Library/SMS/sms.db")
	for _, arg := range []string{
		"HomeDomain/Library/SMS/sms.db", "/HomeDomain/Library/SMS/sms.db/", "HomeDomain//Library/SMS/sms.db",
		"/var/mobile/Library/SMS/sms.db", "/private/var/mobile/Library/SMS/sms.db", "var/mobile/Library/SMS/sms.db",
	} {
		p, err := ix.Resolve(arg)
		if err != nil {
			t.Errorf("%s: %v", arg, err)
			continue
		}
		if p.IsDir(ix) || len(p.Entries) != 1 || p.Entries[0] != sms {
			t.Errorf("%s: entries %v, want sms.db (%d)", arg, p.Entries, sms)
		}
	}

	// The deepest placed domain wins a file: HealthDomain's x.db, as in device/.
	p, err := ix.Resolve("/var/mobile/Library/Health/x.db")
	if err != nil || ix.Entry(p.Entries[0]).Domain != "HealthDomain" {
		t.Fatalf("Health/x.db: %+v %v", p, err)
	}
	// A folder wins over a file of the same name: HealthDomain's Notes/ hides HomeDomain's file.
	p, err = ix.Resolve("/var/mobile/Library/Notes")
	if err != nil || !p.IsDir(ix) || len(p.Entries) != 1 || ix.Entry(p.Entries[0]).Domain != "HealthDomain" {
		t.Fatalf("Notes: %+v %v", p, err)
	}
	// /var/mobile/Library merges HealthDomain's root (placed deeper: first) and HomeDomain's Library.
	p, err = ix.Resolve("/var/mobile/Library")
	if err != nil || len(p.Entries) != 2 || ix.Entry(p.Entries[0]).Domain != "HealthDomain" || ix.Entry(p.Entries[1]).Domain != "HomeDomain" {
		t.Fatalf("/var/mobile/Library: %+v %v", p, err)
	}
	if got := names(ix.List(p)); got != "Health Notes SMS" {
		t.Errorf("ls /var/mobile/Library: %s", got)
	}
	// A folder that only leads to domains.
	p, err = ix.Resolve("/var/mobile/Containers/Data/Application")
	if err != nil || len(p.Entries) != 0 || len(p.Below) != 1 || p.Below[0] != "AppDomain-com.example.notes" {
		t.Fatalf("Containers: %+v %v", p, err)
	}
	if roots := p.Roots(ix); len(roots) != 1 || ix.Entry(roots[0]).Domain != "AppDomain-com.example.notes" || ix.Entry(roots[0]).Path != "" {
		t.Errorf("Containers roots: %v", roots)
	}
	p, _ = ix.Resolve("/var/mobile")
	if got := names(ix.List(p)); got != "Containers Library Media" {
		t.Errorf("ls /var/mobile: %s", got)
	}
	p, _ = ix.Resolve("/")
	if got := names(ix.List(p)); got != "var" {
		t.Errorf("ls /: %s", got)
	}
	p, _ = ix.Resolve("/var/mobile/Containers")
	if got := names(ix.List(p)); got != "Data Shared" {
		t.Errorf("ls /var/mobile/Containers: %s", got)
	}
}

func names(ps []*Place) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += " "
		}
		s += p.Arg[len(p.Arg)-len(lastComp(p.Arg)):]
	}
	return s
}

func lastComp(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

func TestResolveDidYouMean(t *testing.T) {
	ix := placeIndex(t)
	for arg, want := range map[string]string{
		"HomeDomain/Library/SMS/sms.dbb":  "HomeDomain/Library/SMS/sms.db",
		"HomeDomain/Libary/SMS/sms.db":    "HomeDomain/Library/SMS/sms.db",
		"HomeDomain/Library/SMX":          "HomeDomain/Library/SMS",
		"HomeDomian/Library/SMS":          "HomeDomain/Library/SMS",
		"homedomain":                      "HomeDomain",
		"CameraRoll/Media":                "CameraRollDomain/Media",
		"/var/mobile/Libary/SMS/sms.db":   "/var/mobile/Library/SMS/sms.db",
		"/var/mobile/Library/Healt":       "/var/mobile/Library/Health",
		"/var/mobile/Containers/Dta":      "/var/mobile/Containers/Data",
		"HomeDomain/Library/SMS/zzzzzzzz": "",
		"NoSuchThingAtAll":                "",
	} {
		_, err := ix.Resolve(arg)
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Errorf("%s: %v, want a NotFoundError", arg, err)
			continue
		}
		if nf.Suggestion != want {
			t.Errorf("%s: suggests %q, want %q (%v)", arg, nf.Suggestion, want, err)
		}
	}
	if _, err := ix.Resolve("/"); err != nil {
		t.Errorf("/: %v", err)
	}
	if _, err := ix.Resolve(""); err == nil {
		t.Error("empty argument resolved")
	}
}

func TestClosest(t *testing.T) {
	names := []string{"HomeDomain", "HealthDomain", "MediaDomain", "sms.db"}
	for word, want := range map[string]string{
		"HomeDomian": "HomeDomain", "homedomain": "HomeDomain", "Media": "MediaDomain",
		"sms.dbb": "sms.db", "xyz": "", "": "", "HealthDomainz": "HealthDomain",
	} {
		if got := Closest(word, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", word, got, want)
		}
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("/var/mobile/Library/SMS/sms.db")
	f.Add("HomeDomian/Library")
	f.Add("/private/var//mobile/../Containers")
	f.Fuzz(func(t *testing.T, arg string) {
		ix := placeIndex(t)
		p, err := ix.Resolve(arg)
		if err != nil {
			return
		}
		if len(p.Entries) == 0 && len(p.Below) == 0 {
			t.Fatalf("%q resolved to nothing without an error", arg)
		}
		if p.IsDir(ix) {
			ix.List(p)
		}
		p.Roots(ix)
	})
}
