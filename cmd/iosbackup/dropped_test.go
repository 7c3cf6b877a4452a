package main

import (
	"testing"

	"iosbackup/backup"
	"iosbackup/manifest"
)

// TestDroppedMatchingFollowsTheExtractFilter: extract exits 1 only for rows left out
// that its selection would have written (a place and what is below it, --domain, a
// glob whose matching folder brings what is below it), and counts the rows it cannot
// tell apart as matching.
func TestDroppedMatchingFollowsTheExtractFilter(t *testing.T) {
	ix, _ := manifest.NewIndex([]manifest.Entry{
		{Domain: "HomeDomain", Path: "Library/SMS", Kind: manifest.KindDir, Mode: 0o40755},
		{Domain: "HomeDomain", Path: "Library/Notes/notes.txt", Kind: manifest.KindFile, Mode: 0o100644},
		{Domain: "CameraRollDomain", Path: "Media/DCIM/100APPLE/IMG_0002.JPG", Kind: manifest.KindFile, Mode: 0o100644},
	})
	d := new(manifest.Drops)
	for _, r := range []manifest.DroppedRow{
		{Reason: manifest.DropUnreadable, Domain: "HomeDomain", Path: "Library/SMS/sms.db"},
		{Reason: manifest.DropBadDomain, Domain: ".", Path: "HomeDomain/Library/SMS/sms.db"},
		{Reason: manifest.DropDuplicate, Domain: "CameraRollDomain", Path: "Media/DCIM/100APPLE/IMG_0001.JPG"},
	} {
		d.Add(r)
	}
	b := &backup.Backup{Index: ix, Stats: backup.LoadStats{Dropped: d}}
	for _, c := range []struct {
		domain, arg string
		want        int
	}{
		{"", "", 3},
		{"CameraRollDomain", "Media/DCIM", 1},
		{"CameraRollDomain", "Media/DCIM/*/*.JPG", 1},
		{"HomeDomain", "Library/*", 1},
		{"", "HomeDomain/Library/SMS", 1},   // a place: what is below it
		{"", "HomeDomain/Library/Notes", 0}, // nothing left out there
		{"", "/var/mobile/Library/SMS", 1},  // a device path
		{"KeyboardDomain", "", 0},
	} {
		opt := backup.ExtractOptions{DomainGlob: c.domain}
		// KeyboardDomain is not in the index: Select would refuse it.
		if err := opt.Select(ix, c.arg); err != nil && c.domain != "KeyboardDomain" {
			t.Fatalf("--domain %q %q: %v", c.domain, c.arg, err)
		}
		if got := droppedMatching(b, opt); got != c.want {
			t.Errorf("--domain %q %q: %d rows match, want %d", c.domain, c.arg, got, c.want)
		}
	}
	// Past the rows Drops keeps, a row cannot be told apart: it counts as matching.
	for d.Complete() {
		d.Add(manifest.DroppedRow{Reason: manifest.DropDuplicate, Domain: "HomeDomain", Path: "x"})
	}
	if got, want := droppedMatching(b, backup.ExtractOptions{DomainGlob: "KeyboardDomain"}), d.Total()-len(d.Rows()); got != want || got == 0 {
		t.Errorf("past the kept rows: %d match, want %d", got, want)
	}
	if droppedMatching(&backup.Backup{Index: ix}, backup.ExtractOptions{}) != 0 {
		t.Error("no drops, yet some match")
	}
}
