package manifest

import (
	"strings"
	"testing"
)

func TestDropsCountsKeepsAndSummarizes(t *testing.T) {
	var d Drops
	if d.Total() != 0 || d.Summary() != "" || !d.Complete() {
		t.Fatalf("empty: %v", &d)
	}
	var none *Drops // nil reads as empty
	if none.Total() != 0 || none.Rows() != nil || none.Count(DropDuplicate) != 0 || !none.Complete() {
		t.Fatal("nil Drops is not empty")
	}
	for i := 0; i < maxKeptDrops+5; i++ {
		d.Add(DroppedRow{Reason: DropDuplicate, Domain: "HomeDomain", Path: "p"})
	}
	d.Add(DroppedRow{Reason: DropUnreadable, Row: 7, Domain: "HomeDomain", Path: "Library/SMS/sms.db", FileID: "3d0d", Detail: "bad plist"})
	if d.Total() != maxKeptDrops+6 || d.Count(DropDuplicate) != maxKeptDrops+5 || len(d.Rows()) != maxKeptDrops || d.Complete() {
		t.Fatalf("counts: total %d, kept %d", d.Total(), len(d.Rows()))
	}
	if got, want := d.Summary(), "1 unreadable record, 1005 duplicate paths"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
	// The row over the bound is counted but not kept.
	if _, ok := d.Find("HomeDomain", "Library/SMS/sms.db"); ok {
		t.Fatal("a row beyond the bound was kept")
	}
	var m Drops
	m.Add(DroppedRow{Reason: DropBadDomain, Domain: ".", Path: "HomeDomain/x\n\x1b[2J"})
	m.Merge(&d)
	m.Merge(nil)
	if m.Total() != d.Total()+1 || len(m.Rows()) != maxKeptDrops || m.Rows()[0].Reason != DropBadDomain {
		t.Fatalf("merge: total %d, kept %d", m.Total(), len(m.Rows()))
	}
	ex := m.Examples(2)
	if len(ex) != 3 || ex[0].Reason != DropBadDomain || ex[1].Reason != DropDuplicate {
		t.Fatalf("examples %v", ex)
	}
	// Names are quoted: a hostile one cannot put a newline or an escape on the terminal.
	if s := ex[0].String(); strings.ContainsAny(s, "\n\x1b") || !strings.Contains(s, `domain "." path "HomeDomain/x\n\x1b[2J"`) {
		t.Fatalf("row shown as %q", s)
	}
	r := DroppedRow{Reason: DropUnreadable, Row: 7, Domain: "D", Path: "p", FileID: "ab", Detail: "why"}
	if got, want := r.String(), `unreadable record: domain "D" path "p" (row 7, fileID ab): why`; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
