package sms

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"iosbackup/artifacts/internal/gentest"
	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/backup"
	"iosbackup/internal/gen"
)

func TestChatsAndMessagesMatchTruth(t *testing.T) {
	for _, v := range gentest.Versions {
		t.Run(v.Name, func(t *testing.T) {
			truth, b := gentest.Generate(t, v)
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
			if len(chats) != len(truth.Chats) {
				t.Fatalf("%d chats, truth %d", len(chats), len(truth.Chats))
			}
			total := 0
			for i, c := range chats {
				w := truth.Chats[i]
				if c.ID != w.ID || c.GUID != w.GUID || c.Identifier != w.Identifier || c.DisplayName != w.DisplayName ||
					c.Service != w.Service || !slices.Equal(c.Members, w.Members) {
					t.Errorf("chat %d: %+v, want %+v", i, c, w)
				}
				var want []gen.Message
				for _, m := range truth.Messages {
					if m.ChatID == c.ID {
						want = append(want, m)
					}
				}
				// The truth is in ROWID order and dates grow with ROWID.
				if c.Messages != len(want) {
					t.Errorf("chat %d: count %d, want %d", c.ID, c.Messages, len(want))
				}
				var got []*Message
				if err := db.Messages(ctx, c.ID, func(m *Message) error { got = append(got, m); return nil }); err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("chat %d: %d messages, want %d", c.ID, len(got), len(want))
				}
				for j, m := range got {
					checkMessage(t, truth, m, &want[j])
				}
				total += len(got)
			}
			// The generated cases that break tools are there to be read.
			nullText, missing, groups := 0, 0, 0
			for _, m := range truth.Messages {
				if m.TextNull && m.Shown != "" {
					nullText++
				}
				for _, a := range m.Attachments {
					if a.Missing {
						missing++
					}
				}
			}
			for _, c := range chats {
				if c.IsGroup() {
					groups++
				}
			}
			if (truth.IOSMajor >= 16 && nullText < 3) || missing != 1 || groups != 2 {
				t.Errorf("iOS %d: %d body-only texts, %d missing attachments, %d groups", truth.IOSMajor, nullText, missing, groups)
			}
			if total != len(truth.Messages) || db.Skipped() != 0 || db.Damaged() != 0 {
				t.Errorf("read %d of %d messages, %d skipped, %d damaged", total, len(truth.Messages), db.Skipped(), db.Damaged())
			}
		})
	}
}

func checkMessage(t *testing.T, truth *gen.Truth, m *Message, w *gen.Message) {
	t.Helper()
	sender := w.Handle
	if w.FromMe {
		sender = ""
	}
	if m.RowID != w.RowID || m.GUID != w.GUID || m.Text != w.Shown || m.FromMe != w.FromMe || m.Sender != sender {
		t.Errorf("message %d: %q from %q (me %v), want %q from %q (me %v)", w.RowID, m.Text, m.Sender, m.FromMe, w.Shown, sender, w.FromMe)
	}
	if !m.Date.Equal(sqlitex.AppleTime(w.Date)) || m.Date.Before(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("message %d: date %v, stored %d", w.RowID, m.Date, w.Date)
	}
	if (w.DateEdited != 0) != !m.Edited.IsZero() || (w.DateRetracted != 0) != !m.Retracted.IsZero() {
		t.Errorf("message %d: edited %v retracted %v, stored %d %d", w.RowID, m.Edited, m.Retracted, w.DateEdited, w.DateRetracted)
	}
	if w.DateEdited != 0 && m.Edited.Sub(m.Date) != 90*time.Second {
		t.Errorf("message %d: edited %v after", w.RowID, m.Edited.Sub(m.Date))
	}
	var history []string
	for _, e := range m.Edits {
		history = append(history, e.Text)
	}
	if !slices.Equal(history, w.EditHistory) || (len(m.Edits) == 2 && m.Edits[1].Date.Sub(m.Edits[0].Date) != 90*time.Second) {
		t.Errorf("message %d: edit history %+v, want %q", w.RowID, m.Edits, w.EditHistory)
	}
	if !slices.Equal(m.Links, w.Links) || !slices.Equal(m.Mentions, w.Mentions) {
		t.Errorf("message %d: links %q mentions %q, want %q %q", w.RowID, m.Links, m.Mentions, w.Links, w.Mentions)
	}
	switch {
	case w.ReactionType == 0 && m.Reaction != nil:
		t.Errorf("message %d: unexpected reaction %+v", w.RowID, m.Reaction)
	case w.ReactionType != 0:
		r := m.Reaction
		kinds := map[int64]ReactionKind{2000: "love", 2006: "emoji", 3000: "love"}
		if r == nil || r.Kind != kinds[w.ReactionType] || r.Removed != (w.ReactionType >= 3000) ||
			"p:0/"+r.Target != w.ReactionTarget || r.Emoji != w.ReactionEmoji {
			t.Errorf("message %d: reaction %+v, want type %d on %s", w.RowID, r, w.ReactionType, w.ReactionTarget)
		}
	}
	if len(m.Attachments) != len(w.Attachments) {
		t.Fatalf("message %d: %d attachments, want %d", w.RowID, len(m.Attachments), len(w.Attachments))
	}
	for k, a := range m.Attachments {
		wa := w.Attachments[k]
		if a.GUID != wa.GUID || a.Filename != wa.Filename || a.TransferName != wa.TransferName || a.MIMEType != wa.MIMEType ||
			a.TotalBytes != wa.TotalBytes || a.Domain != wa.Domain || a.Path != wa.Path || a.Missing != wa.Missing {
			t.Errorf("message %d attachment: %+v, want %+v", w.RowID, a, wa)
		}
		if !a.Missing && truth.Lookup(a.Domain, a.Path) == nil {
			t.Errorf("attachment %s/%s: not in the backup", a.Domain, a.Path)
		}
	}
}

func TestOpenWithoutDatabase(t *testing.T) {
	truth, b := gentest.Generate(t, gentest.Named("iOS14"))
	// Remove the sms.db blob: the backup still lists it, its contents are gone.
	e := truth.Lookup(Domain, Path)
	id := e.ID().String()
	if err := os.Remove(filepath.Join(truth.Dir, id[:2], id)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), b)
	if !errors.Is(err, backup.ErrBlobMissing) {
		t.Fatalf("err %v, want ErrBlobMissing", err)
	}
}
