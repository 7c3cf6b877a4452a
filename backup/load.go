package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"sync"

	"iosbackup/manifest"
)

// load reads the manifest into the index.
//
// A Manifest.db is read by manifest.ReadDBEntries into one slice sized from its row
// count, which NewIndex then sorts in place: a million entries (128 bytes each) are
// held once, not copied by append's doubling or into a second slice.
func (b *Backup) load() error {
	defer collectGarbageOftenWhileLoading()()
	var entries []manifest.Entry
	switch b.Format {
	case FormatDB:
		var err error
		if entries, err = b.readDB(); err != nil {
			return err
		}
	case FormatMBDB:
		path := b.dir.path("Manifest.mbdb")
		f, _, err := b.dir.open("Manifest.mbdb")
		if err != nil {
			return fmt.Errorf("open manifest: %w", err)
		}
		defer f.Close()
		st, err := manifest.ReadMBDB(f, func(e *manifest.Entry) error {
			entries = append(entries, *e)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		b.Stats.Rows = st.Records
		b.addDropped(st.Dropped)
	}
	ix, st := manifest.NewIndex(entries)
	b.Index = ix
	b.Stats.Synthesized, b.Stats.Duplicates = st.Synthesized, st.Duplicates
	b.Stats.Invalid, b.Stats.Orphans = st.Invalid, st.Orphans
	b.addDropped(st.Dropped)
	return nil
}

// addDropped adds the rows a reader or the index left out to b.Stats.Dropped.
func (b *Backup) addDropped(d *manifest.Drops) {
	if d.Total() == 0 {
		return
	}
	if b.Stats.Dropped == nil {
		b.Stats.Dropped = new(manifest.Drops)
	}
	b.Stats.Dropped.Merge(d)
}

// readDB reads the entries of Manifest.db, decrypting it on the fly when the backup is
// encrypted.
func (b *Backup) readDB() ([]manifest.Entry, error) {
	path := b.dir.path("Manifest.db")
	f, fi, err := b.dir.open("Manifest.db")
	if err != nil {
		return nil, fmt.Errorf("open manifest: %w", err)
	}
	defer f.Close()
	// The database is handed to SQLite as a reader of the file opened here, never by
	// its name: SQLite would follow a symlink, or block on a pipe, swapped in later.
	var db *sql.DB
	var closeDB func() error
	if b.manifestEncrypted() {
		key, err := b.manifestKey()
		if err != nil {
			return nil, err
		}
		r, err := openManifestDB(f, fi.Size(), key)
		clear(key)
		if err != nil {
			return nil, fmt.Errorf("decrypt %s: %w", path, err)
		}
		// The plaintext database is read page by page through SQLite's VFS and never
		// written anywhere.
		db, closeDB, err = manifest.OpenDBReader(r, r.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		// A non-empty Manifest.db-wal holds transactions not yet in the database.
		wal, walInfo, err := b.dir.open("Manifest.db-wal")
		switch {
		case err == nil && walInfo.Size() > 0:
			defer wal.Close()
			db, closeDB, err = manifest.OpenDBReaderWithWAL(f, fi.Size(), wal, walInfo.Size())
		case err == nil || errors.Is(err, fs.ErrNotExist):
			if wal != nil {
				wal.Close()
			}
			db, closeDB, err = manifest.OpenDBReader(f, fi.Size())
		default:
			return nil, fmt.Errorf("open manifest: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	defer closeDB()
	entries, stats, err := manifest.ReadDBEntries(context.Background(), db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b.Stats.Rows, b.Stats.Skipped = stats.Rows, stats.Skipped
	b.addDropped(stats.Dropped)
	return entries, nil
}

// manifestEncrypted reports whether Manifest.db is encrypted as a whole (iOS 10.2+).
func (b *Backup) manifestEncrypted() bool {
	return b.Format == FormatDB && b.Encrypted && b.Manifest != nil && len(b.Manifest.ManifestKey) > 0
}

// manifestKey unwraps the key of an encrypted Manifest.db (Manifest.plist's
// ManifestKey: a 4-byte class and the wrapped key). Clear it after use.
func (b *Backup) manifestKey() ([]byte, error) {
	class, wrapped, err := splitClassKey(b.Manifest.ManifestKey)
	if err != nil {
		return nil, fmt.Errorf("%s: ManifestKey in Manifest.plist: %w", b.Dir, err)
	}
	key, err := b.keys.UnwrapFileKey(class, wrapped)
	if err != nil {
		return nil, fmt.Errorf("%s: unwrapping ManifestKey: %w", b.Dir, err)
	}
	return key, nil
}

// loadGCPercent is the garbage collector's target while a manifest loads. With the
// default (100) the heap may grow to twice what is live before a collection, and what
// is live is large from the start: the entry slice of a million-row manifest is
// allocated first (200 MB when an entry took 200 bytes), so the reading's garbage
// (~85 MB per million rows) was never collected and the peak RSS was ~400 MB instead
// of ~320 MB. Collections are cheap here (~25 ms each: the entries point into a few
// large blocks), and at 10% there are about ten of them per million rows.
const loadGCPercent = 10

var (
	loadGCMu       sync.Mutex
	loadsRunning   int
	savedGCPercent int
)

// collectGarbageOftenWhileLoading lowers the collector's target to loadGCPercent (if
// it is higher) until the returned function is called. Loads running at once share
// the setting; the last one to finish restores the previous value.
func collectGarbageOftenWhileLoading() (restore func()) {
	loadGCMu.Lock()
	defer loadGCMu.Unlock()
	if loadsRunning == 0 {
		savedGCPercent = debug.SetGCPercent(loadGCPercent)
		if savedGCPercent < 0 || savedGCPercent < loadGCPercent { // GOGC=off or lower: keep it
			debug.SetGCPercent(savedGCPercent)
		}
	}
	loadsRunning++
	return func() {
		loadGCMu.Lock()
		defer loadGCMu.Unlock()
		if loadsRunning--; loadsRunning == 0 {
			debug.SetGCPercent(savedGCPercent)
		}
	}
}
