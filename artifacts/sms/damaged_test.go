package sms

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"iosbackup/backup"
	"iosbackup/internal/gen"
)

// A row whose date is not a number is skipped and counted; a NULL-text message whose
// attributedBody is garbage is shown without text and counted; the rest reads.
func TestDamagedRowsSkippedAndCounted(t *testing.T) {
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "backup"), gen.Options{Seed: 9, ProductVersion: "16.7"})
	if err != nil {
		t.Fatal(err)
	}
	// Damage our own generated copy's sms.db blob in place.
	id := truth.Lookup(Domain, Path).ID().String()
	raw, err := sql.Open("sqlite", filepath.Join(truth.Dir, id[:2], id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE message SET date = 'not a date' WHERE ROWID = 2`); err != nil {
		t.Fatal(err)
	}
	var bodyOnly int64
	if err := raw.QueryRow(`SELECT ROWID FROM message WHERE text IS NULL AND attributedBody IS NOT NULL ORDER BY ROWID LIMIT 1`).Scan(&bodyOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE message SET attributedBody = x'040b73747265616d74797065648184' WHERE ROWID = ?`, bodyOnly); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	b, err := backup.Open(truth.Dir, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	chats, err := db.Chats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, listed := 0, 0
	for _, c := range chats {
		listed += c.Messages
		if err := db.Messages(ctx, c.ID, func(m *Message) error {
			n++
			if m.RowID == 2 {
				t.Errorf("the damaged row was read: %+v", m)
			}
			if m.RowID == bodyOnly && m.Text != "" {
				t.Errorf("garbage body gave text %q", m.Text)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if listed != len(truth.Messages) {
		t.Errorf("chats list %d messages, want %d (the damaged one included)", listed, len(truth.Messages))
	}
	if n != len(truth.Messages)-1 || db.Skipped() != 1 || db.Damaged() != 1 {
		t.Errorf("read %d of %d, skipped %d, damaged %d; want %d, 1, 1", n, len(truth.Messages), db.Skipped(), db.Damaged(), len(truth.Messages)-1)
	}
}
