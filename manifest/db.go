package manifest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"modernc.org/sqlite"
	"modernc.org/sqlite/vfs"
)

// DBStats counts what ReadDB met besides the entries it delivered.
type DBStats struct {
	Rows    int // rows read from the Files table
	Entries int // entries handed to fn
	// Skipped rows are Apple's placeholders: flags 16, or domain, relativePath and
	// file all NULL.
	Skipped int
	// BadFile rows are left out: a `file` column that could not be decoded (or is
	// larger than MaxMBFileSize, or names no file type in either Mode or flags), a
	// column over its bound (see dbguard.go), or a NULL column on a row that is no
	// placeholder. Dropped says which, row by row; FirstBadFile is the first such
	// error, naming its row.
	BadFile      int
	FirstBadFile error
	Dropped      *Drops // nil when no row was left out
	// FlagMismatch rows have a Mode file type that disagrees with flags: the entry
	// takes the type of Mode.
	FlagMismatch int
	// ModeFromFlags rows have a Mode without a file, directory or symlink type: the
	// entry takes the type of flags, and Mode gains the matching type bits.
	ModeFromFlags int
	// IDMismatch rows have a fileID that is not SHA-1(domain + "-" + relativePath).
	// The stored fileID is kept: it is the name of the blob.
	IDMismatch int
}

// flagsNullRow is the flags value Apple writes on rows whose other columns are NULL.
const flagsNullRow = 16

// ReadDB streams the Files table of a Manifest.db in one pass and calls fn for each
// valid entry, in table order (unsorted). Memory stays flat however many rows there
// are: a few batches of rows are held at a time.
//
// The rows are read by one goroutine and their `file` columns decoded by GOMAXPROCS
// others, a batch of rows at a time; fn is called on the caller's goroutine, in table
// order, one entry at a time, exactly as a sequential reader would. (To hand the rows
// over without a copy per column, the package registers an aggregate SQL function,
// filesScanFunc, with the "sqlite" driver; see dbpipeline.go.)
//
// fn must not keep the *Entry: it points into a batch that ReadDB reuses. Copying *e
// is enough to keep it: no slice, map or string in it is shared with another row or
// ever overwritten (domain strings are interned: rows of one domain share one string;
// paths and small byte slices such as WrappedKey and Digest are carved from blocks of
// up to 1 MiB, slices with their capacity capped, so a kept entry keeps its blocks
// alive: keep many entries or copy the fields). An error from fn stops the read and
// is returned unchanged.
//
// A fileID that is not 40 hex digits is an error naming the row: a manifest that names
// blobs outside the backup folder is hostile, not damaged. Apple's placeholder rows
// (flags 16, or every column NULL) are skipped; rows with an undecodable or oversized
// `file` column, or a NULL column, are left out; both are counted in the returned
// stats, and every row left out is named in its Dropped.
func ReadDB(db *sql.DB, fn func(*Entry) error) (DBStats, error) {
	return ReadDBContext(context.Background(), db, fn)
}

// ReadDBContext is ReadDB with a context that can cancel the query.
//
// The read takes one connection of db, checks the schema on it and bounds the values
// SQLite may build (see dbguard.go): a hostile Manifest.db is refused with an error,
// or has its oversized rows dropped, instead of exhausting memory.
func ReadDBContext(ctx context.Context, db *sql.DB, fn func(*Entry) error) (DBStats, error) {
	conn, err := guardedConn(ctx, db)
	if err != nil {
		return DBStats{}, err
	}
	defer conn.Close()
	return readFiles(ctx, conn, fn)
}

// readFiles is ReadDBContext on a connection already guarded.
func readFiles(ctx context.Context, q queryer, fn func(*Entry) error) (DBStats, error) {
	var st DBStats
	p := newDBPipeline(ctx, q)
	defer p.stop()
	for {
		b, ok := p.next()
		if !ok {
			return st, nil
		}
		// The scanner runs a few batches ahead: stop here rather than after them.
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("Manifest.db: after row %d: %w", st.Rows, err)
		}
		for i := range b.results {
			res := &b.results[i]
			st.Rows++
			switch res.outcome {
			case rowSkipped:
				st.Skipped++
				continue
			case rowFatal:
				return st, res.err
			}
			if res.idMismatch {
				st.IDMismatch++
			}
			if res.outcome == rowBad {
				st.BadFile++
				if st.FirstBadFile == nil {
					st.FirstBadFile = res.err
				}
				addDrop(&st.Dropped, *res.drop)
				continue
			}
			if res.modeFromFlags {
				st.ModeFromFlags++
			}
			if res.flagMismatch {
				st.FlagMismatch++
			}
			if err := fn(&b.entries[i]); err != nil {
				return st, err
			}
			st.Entries++
		}
		if b.err != nil {
			if b.errOnRow {
				st.Rows++
			}
			return st, b.err
		}
		p.release(b)
	}
}

// ReadDBEntries reads every entry of the Files table into one slice, as ReadDBContext
// delivers them; on error, with the entries read until then. The slice is sized once
// from a count of the rows, with room to spare for the directories NewIndex
// synthesizes (it then sorts them in place), so that a million entries (200 MB) are
// neither copied by append's doubling nor held twice.
func ReadDBEntries(ctx context.Context, db *sql.DB) ([]Entry, DBStats, error) {
	conn, err := guardedConn(ctx, db) // before the count: a view could count forever
	if err != nil {
		return nil, DBStats{}, err
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM Files`).Scan(&n); err != nil {
		n = 0 // the read that follows reports what is wrong
	}
	// The count is real, but most rows may yet be skipped: reserve at most 4M entries
	// (800 MB) up front; append takes over beyond.
	n = min(n, 4<<20)
	entries := make([]Entry, 0, n+n/64+16)
	st, err := readFiles(ctx, conn, func(e *Entry) error {
		entries = append(entries, *e)
		return nil
	})
	return entries, st, err
}

// kindFromFlags reads the flags column: 1 file, 2 directory, 4 symlink.
func kindFromFlags(flags int64) Kind {
	switch flags {
	case 1:
		return KindFile
	case 2:
		return KindDir
	case 4:
		return KindSymlink
	}
	return 0
}

// OpenDBFile opens the Manifest.db at path read-only, in a way that never writes to the
// backup folder (an examiner's evidence):
//
//   - Without a Manifest.db-wal beside it (the usual case), it is opened through the
//     native file system with the URI parameters mode=ro&immutable=1: SQLite then takes
//     no locks and creates no -journal, -wal or -shm file.
//   - With a non-empty Manifest.db-wal beside it, immutable=1 would silently ignore the
//     transactions still in the WAL, and plain mode=ro is not enough either: SQLite
//     then creates a Manifest.db-shm next to the database (and leaves it there). So
//     the pair is opened through the read-only modernc.org/sqlite/vfs, which has no
//     write path at all, with locking_mode=EXCLUSIVE so that SQLite keeps the WAL index
//     in process memory instead of a -shm file. The WAL is honoured; nothing is
//     written. The sizes of both files are taken at open time.
//
// A Manifest.db-journal beside it is ignored: rolling it back would mean writing.
// The database is checked to have a Files table, so that an encrypted Manifest.db
// fails here with a clear error. Close the returned DB (after closing every Rows) to
// release the files.
func OpenDBFile(path string) (*sql.DB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: not a regular file", path)
	}
	wal, err := os.Stat(path + "-wal")
	switch {
	case err == nil && wal.Size() > 0:
		return openDBWithWAL(path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open %s: %w", path, err)
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	c, err := sqlite.NewConnector(fileURI(abs) + "?mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := sql.OpenDB(c)
	if err := checkManifestDB(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// fileURI turns an absolute path into a SQLite file: URI, escaping the characters
// that would otherwise end the path ('?', '#') or start an escape ('%').
func fileURI(abs string) string {
	p := filepath.ToSlash(abs)
	if runtime.GOOS == "windows" && !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x -> file:///C:/x
	}
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	return "file://" + p
}

// The names the database and its WAL have inside the private VFS.
const (
	vfsDBName  = "Manifest.db"
	vfsWALName = vfsDBName + "-wal"
)

func openDBWithWAL(path string) (*sql.DB, error) {
	dbf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	walf, err := os.Open(path + "-wal")
	if err != nil {
		dbf.Close()
		return nil, err
	}
	release := func() error { return errors.Join(dbf.Close(), walf.Close()) }
	dbi, err1 := dbf.Stat()
	wali, err2 := walf.Stat()
	if err := errors.Join(err1, err2); err != nil {
		release()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	fsys := readerFS{files: map[string]readerFile{
		vfsDBName:  {r: dbf, size: dbi.Size()},
		vfsWALName: {r: walf, size: wali.Size()},
	}}
	db, err := openVFS(fsys, "mode=ro&_pragma=locking_mode(EXCLUSIVE)", release, checkManifestDB)
	if err != nil {
		return nil, fmt.Errorf("open %s (with its -wal): %w", path, err)
	}
	return db, nil
}

// OpenDBReader opens a Manifest.db whose bytes come from r (for instance a decrypting
// reader) through the read-only modernc.org/sqlite/vfs: nothing touches the disk. r
// must allow concurrent ReadAt calls. The database is opened immutable: there is no WAL
// beside a stream of bytes, and the bytes cannot change.
//
// The returned close function closes the DB and unregisters the VFS; closing the DB
// itself does the same. Close every Rows first: the VFS cannot be unregistered while a
// query still reads through it. r is not closed.
func OpenDBReader(r io.ReaderAt, size int64) (*sql.DB, func() error, error) {
	if size < 0 {
		return nil, nil, fmt.Errorf("Manifest.db: negative size %d", size)
	}
	fsys := readerFS{files: map[string]readerFile{vfsDBName: {r: r, size: size}}}
	db, err := openVFS(fsys, "immutable=1", func() error { return nil }, checkManifestDB)
	if err != nil {
		return nil, nil, fmt.Errorf("Manifest.db: %w", err)
	}
	return db, db.Close, nil
}

// OpenDBReaderWithWAL is OpenDBReader for a database with a non-empty write-ahead log
// beside it, both read through their readers: the WAL is honoured and nothing is
// written, as in OpenDBFile. The readers are not closed.
func OpenDBReaderWithWAL(db io.ReaderAt, dbSize int64, wal io.ReaderAt, walSize int64) (*sql.DB, func() error, error) {
	if dbSize < 0 || walSize < 0 {
		return nil, nil, fmt.Errorf("Manifest.db: negative size %d (WAL %d)", dbSize, walSize)
	}
	fsys := readerFS{files: map[string]readerFile{
		vfsDBName:  {r: db, size: dbSize},
		vfsWALName: {r: wal, size: walSize},
	}}
	d, err := openVFS(fsys, "mode=ro&_pragma=locking_mode(EXCLUSIVE)", func() error { return nil }, checkManifestDB)
	if err != nil {
		return nil, nil, fmt.Errorf("Manifest.db (with its -wal): %w", err)
	}
	return d, d.Close, nil
}

// OpenSQLiteReader opens any SQLite database whose bytes come from r (a file inside a
// backup, through the decrypting reader) read-only and immutable through the same
// private VFS as OpenDBReader: the plaintext never touches the disk. Unlike
// OpenDBReader it asks for no particular table; it only makes the first connection,
// so that a file that is no database fails here. Close the DB to release the VFS.
func OpenSQLiteReader(r io.ReaderAt, size int64) (*sql.DB, error) {
	return OpenSQLiteReaderClosing(r, size, func() error { return nil })
}

// OpenSQLiteReaderClosing is OpenSQLiteReader for a reader that must be closed with
// the database (a backup file opened for it): release runs when the DB is closed, or
// at once when opening fails.
func OpenSQLiteReaderClosing(r io.ReaderAt, size int64, release func() error) (*sql.DB, error) {
	if size < 0 {
		release()
		return nil, fmt.Errorf("negative size %d", size)
	}
	fsys := readerFS{files: map[string]readerFile{vfsDBName: {r: r, size: size}}}
	// Sorts and temporary indexes stay in memory: the VFS is read-only, and SQLite's
	// spill files would fail with a disk I/O error on large queries.
	return openVFS(fsys, "immutable=1&_pragma=temp_store(2)", release, func(db *sql.DB) error { return db.Ping() })
}

// openVFS registers fsys as a SQLite VFS and opens vfsDBName through it with the extra
// URI parameters and runs check on it. Closing the DB closes the connections, then
// unregisters the VFS and calls release.
func openVFS(fsys fs.FS, params string, release func() error, check func(*sql.DB) error) (*sql.DB, error) {
	name, v, err := vfs.New(fsys)
	if err != nil {
		release()
		return nil, fmt.Errorf("register VFS: %w", err)
	}
	c, err := sqlite.NewConnector("file:" + vfsDBName + "?vfs=" + name + "&" + params)
	if err != nil {
		v.Close()
		release()
		return nil, err
	}
	db := sql.OpenDB(&closingConnector{Connector: c, cleanup: func() error {
		// Release the files even if the VFS is still in use: later reads then fail
		// with an error instead of reading a file nobody will close.
		return errors.Join(v.Close(), release())
	}})
	if err := check(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// closingConnector runs cleanup once, when database/sql closes the DB (DB.Close calls
// Close on a connector that has one, after closing its idle connections).
type closingConnector struct {
	driver.Connector
	once    sync.Once
	cleanup func() error
	err     error
}

func (c *closingConnector) Close() error {
	c.once.Do(func() { c.err = c.cleanup() })
	return c.err
}

// checkManifestDB makes the first connection and checks that the Files table exists and
// is the plain table Apple writes (see checkFilesSchema), so that opening fails at once
// on an encrypted, foreign or hostile file.
func checkManifestDB(db *sql.DB) error {
	return checkFilesSchema(context.Background(), db)
}

// notADatabase says "still encrypted?" for the error SQLite gives on a file that is not
// a database.
func notADatabase(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == 26 { // SQLITE_NOTADB, or an extended code of it
		return fmt.Errorf("not a SQLite database (still encrypted?): %w", err)
	}
	return err
}
