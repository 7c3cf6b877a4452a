package backup

import (
	"database/sql"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// TestOpenReportsRowsLeftOut damages an encrypted Manifest.db (decrypted, edited and
// encrypted again): a row whose record is garbage and a row of domain "." are in
// Stats.Dropped, from the reader and from the index, and the rest opens as before.
func TestOpenReportsRowsLeftOut(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 21, Encrypted: true})
	err := gen.EditManifestDB(truth, func(db *sql.DB) error {
		if _, err := db.Exec(`UPDATE Files SET file = x'00' WHERE domain = 'HomeDomain' AND relativePath = 'Library/Notes/notes.txt'`); err != nil {
			return err
		}
		_, err := db.Exec(`INSERT INTO Files SELECT '00000000000000000000000000000000000000cc', '.', 'HomeDomain/' || relativePath, flags, file
			FROM Files WHERE domain = 'HomeDomain' AND relativePath = 'Library/SMS/sms.db'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(truth.Dir, Options{Password: password(truth.Password)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close() // an open Backup keeps its folder open: Windows cannot delete it
	d := b.Stats.Dropped
	if d.Total() != 2 || d.Count(manifest.DropUnreadable) != 1 || d.Count(manifest.DropBadDomain) != 1 || b.Stats.Invalid != 1 {
		t.Fatalf("dropped: %v (stats %+v)", d, b.Stats)
	}
	if r, ok := d.Find("HomeDomain", "Library/Notes/notes.txt"); !ok || r.Row == 0 || !strings.Contains(r.Detail, "MBFile") {
		t.Fatalf("damaged row: %+v %v", r, ok)
	}
	if _, ok := b.Index.Lookup("HomeDomain", "Library/SMS/sms.db"); !ok {
		t.Fatal("sms.db lost")
	}
	if b.Stats.Rows != truth.Rows+1 {
		t.Fatalf("%d rows read, want %d", b.Stats.Rows, truth.Rows+1)
	}
}
