package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"iosbackup/artifacts/contacts"
	"iosbackup/artifacts/internal/gentest"
	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/artifacts/photos"
)

func TestExportContacts(t *testing.T) {
	truth, b := gentest.Generate(t, gentest.Named("iOS16"))
	dest := t.TempDir()
	st, err := Contacts(context.Background(), b, dest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Items != len(truth.Contacts) || st.Files != len(truth.Contacts)+1 {
		t.Errorf("stats %+v", st)
	}
	for _, w := range truth.Contacts {
		f, err := os.Open(filepath.Join(dest, "contacts", w.FullName+".vcf"))
		if err != nil {
			t.Error(err)
			continue
		}
		card, err := vcard.NewDecoder(f).Decode()
		f.Close()
		if err != nil || card.PreferredValue(vcard.FieldFormattedName) != w.FullName {
			t.Errorf("%s.vcf: FN %q, %v", w.FullName, card.PreferredValue(vcard.FieldFormattedName), err)
		}
	}
	f, err := os.Open(filepath.Join(dest, "contacts", "all.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vcard.NewDecoder(f)
	n := 0
	for {
		if _, err := dec.Decode(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(truth.Contacts) {
		t.Errorf("all.vcf holds %d cards, want %d", n, len(truth.Contacts))
	}
}

func TestExportCallsCSV(t *testing.T) {
	truth, b := gentest.Generate(t, gentest.Named("iOS18"))
	res, err := contacts.Read(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	// --since drops the first call.
	since := sqlitex.CoreDataTime(truth.Calls[1].Date)
	st, err := Calls(context.Background(), b, dest, Options{Since: since, Names: res.Names()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dest, "calls", "calls.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if st.Items != len(truth.Calls)-1 || len(rows) != len(truth.Calls) {
		t.Fatalf("%d calls, %d rows", st.Items, len(rows))
	}
	// Names come from the address book when it knows the number (the facts of the
	// generated data: Bob's email, Alice's, the unnamed contact's number).
	want := map[string]string{"bob@example.org": "Bob Nguyen", "alice@example.com": "Alice Martin",
		"+447700900456": "+44 7700 900456", "+18005550000": ""}
	for _, r := range rows[1:] {
		if w, ok := want[r[4]]; ok && r[5] != w {
			t.Errorf("%s: name %q, want %q", r[4], r[5], w)
		}
	}
}

func TestExportPhotosByDateAndAlbum(t *testing.T) {
	for _, v := range gentest.Versions {
		t.Run(v.Name, func(t *testing.T) {
			truth, b := gentest.Generate(t, v)
			dest := t.TempDir()
			st, err := Photos(context.Background(), b, dest, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Missing != 1 || st.Items != len(truth.Photos)-1 {
				t.Errorf("stats %+v", st)
			}
			albums := map[string][]string{}
			for _, w := range truth.Photos {
				created := sqlitex.CoreDataTime(w.Created)
				rel := PhotoPath(photos.Asset{Filename: w.Filename, Created: created})
				p := filepath.Join(dest, filepath.FromSlash(rel))
				fi, err := os.Stat(p)
				if w.Missing {
					if err == nil {
						t.Errorf("%s: exported though the backup lacks it", rel)
					}
					continue
				}
				if err != nil {
					t.Error(err)
					continue
				}
				if !fi.ModTime().Equal(created) {
					t.Errorf("%s: mtime %v, want %v", rel, fi.ModTime(), created)
				}
				got, _ := os.ReadFile(p)
				e := truth.Lookup("CameraRollDomain", "Media/"+w.Directory+"/"+w.Filename)
				wantData, _ := io.ReadAll(e.Content())
				if !bytes.Equal(got, wantData) {
					t.Errorf("%s: contents differ", rel)
				}
				if y := created.In(time.Local).Format("2006"); filepath.Base(filepath.Dir(filepath.Dir(p))) != y {
					t.Errorf("%s: not under its year %s", rel, y)
				}
				for _, a := range w.Albums {
					albums[a] = append(albums[a], w.Filename)
				}
			}
			for a, files := range albums {
				entries, err := os.ReadDir(filepath.Join(dest, "photos", "albums", a))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range entries {
					got = append(got, e.Name())
				}
				sort.Strings(files)
				if !slices.Equal(got, files) {
					t.Errorf("album %s: %v, want %v", a, got, files)
				}
			}
		})
	}
}

// Conversations are named by the address book when it knows the handle.
func TestExportMessagesNamedByContacts(t *testing.T) {
	_, b := gentest.Generate(t, gentest.Named("iOS17"))
	res, err := contacts.Read(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if _, err := Messages(context.Background(), b, dest, Options{Names: res.Names()}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dest, "messages"))
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	// The generated chats: Alice by phone and by email, the unnamed contact, Bob, David
	// (RTL), the named group, and the unnamed group of the unnamed contact and Bob.
	want := []string{"+44 7700 900456", "+44 7700 900456, Bob Nguyen", "Alice Martin", "Alice Martin (2)", "Bob Nguyen", "Family 👪", "דוד כהן"}
	if !slices.Equal(got, want) {
		t.Errorf("folders %q, want %q", got, want)
	}
	txt, _ := os.ReadFile(filepath.Join(dest, "messages", "Family 👪", "messages.txt"))
	if !bytes.Contains(txt, []byte("  Alice Martin: Hey Bob, look at this\n")) {
		t.Errorf("group messages not signed by name:\n%s", txt)
	}
}
