package view

import (
	"sync"

	"iosbackup/artifacts/calls"
	"iosbackup/artifacts/contacts"
	"iosbackup/artifacts/export"
	"iosbackup/artifacts/sms"
)

// dataViews are the views built from a backup's databases (messages/, contacts/,
// calls/, photos/by-date and photos/albums). They are read on the first access of the
// backup's folder, not when the tree is built: a mount starts without reading any
// database, and the photos' creation dates (the mtime of their originals in every
// view, since one inode has one set of attributes) are known before any file below
// the folder can be reached.
type dataViews struct {
	once sync.Once
	// views maps a top-level name (messages, contacts, calls) to its folder.
	views  map[string]Node
	photos map[string]Node // by-date, albums: added to photos/
}

// candidateViews is how many data views the manifest could hold (their database is
// listed): the folder's link count before the databases are read, never too low.
func (t *tree) candidateViews() int {
	n := 0
	for _, p := range [][2]string{{sms.Domain, sms.Path}, {contacts.Domain, contacts.Path}} {
		if _, ok := t.ix.Lookup(p[0], p[1]); ok {
			n++
		}
	}
	_, newCalls := t.ix.Lookup(calls.Domain, calls.Path)
	_, oldCalls := t.ix.Lookup(calls.OldDomain, calls.OldPath)
	if newCalls || oldCalls {
		n++
	}
	return n
}

// loadData reads the databases once and builds their views. A database that is
// missing or cannot be read leaves its view out and is logged once, here.
func (t *tree) loadData() *dataViews {
	t.data.once.Do(func() {
		t.data.views = map[string]Node{}
		d, ok := t.src.(Data)
		if !ok {
			return
		}
		skip := func(view string, err error) {
			t.c.log.Printf("iosbackup: %s: no %s view: %v", t.src.Name(), view, err)
		}
		var names export.Names
		if res, err := d.Contacts(); err != nil {
			skip("contacts/", err)
		} else {
			names = res.Names()
			t.data.views["contacts"] = t.contactsDir(res)
			t.noteSkipped("contacts/", int64(res.Skipped))
		}
		if db, err := d.Messages(); err != nil {
			skip("messages/", err)
		} else if dir, err := t.messagesDir(db, names); err != nil {
			skip("messages/", err)
		} else {
			t.data.views["messages"] = dir
		}
		if res, err := d.Calls(); err != nil {
			skip("calls/", err)
		} else {
			t.data.views["calls"] = t.callsDir(res, names)
			t.noteSkipped("calls/", int64(res.Skipped))
		}
		if res, err := d.Photos(); err != nil {
			skip("photos/by-date and photos/albums", err)
		} else {
			t.data.photos = t.photoViews(res)
			t.noteSkipped("photos/by-date", int64(res.Skipped))
		}
	})
	return &t.data
}

// noteSkipped logs how many damaged rows a view left out.
func (t *tree) noteSkipped(view string, n int64) {
	if n > 0 {
		t.c.log.Printf("iosbackup: %s: %s: %d damaged rows skipped", t.src.Name(), view, n)
	}
}

// lazyNames lets a virtualDir find its children on first use.
type lazyNames struct {
	once sync.Once
	fill func()
	// links is the folder's link count before fill has run.
	links uint32
}

func (l *lazyNames) do() {
	if l != nil {
		l.once.Do(l.fill)
	}
}
