package manifest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"modernc.org/sqlite"
)

// TestReadDBKeepsTableOrder checks that the batches decoded in parallel come back in
// table order: NewIndex keeps the first of two listings of a path, so order matters.
func TestReadDBKeepsTableOrder(t *testing.T) {
	needFile(t, mvtDB)
	db, err := OpenDBFile(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT fileID FROM Files ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	rows.Close()
	if len(want) < 4*batchRows {
		t.Fatalf("the sample has %d rows: too few to span several batches", len(want))
	}
	entries, _ := readAll(t, db)
	got := make([]string, len(entries))
	for i, e := range entries {
		got[i] = e.ID.String()
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("entries are not in table (rowid) order")
	}
}

// TestReadDBMatchesSequentialDecoding decodes the sample row by row with the slow
// decoder and compares every entry ReadDB delivers, field by field.
func TestReadDBMatchesSequentialDecoding(t *testing.T) {
	needFile(t, mvtDB)
	db, err := OpenDBFile(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, _ := readAll(t, db)
	rows, err := db.Query("SELECT fileID, domain, relativePath, file FROM Files ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var id, domain, path string
		var blob []byte
		if err := rows.Scan(&id, &domain, &path, &blob); err != nil {
			t.Fatal(err)
		}
		want := Entry{Domain: domain, Path: path}
		if want.ID, err = ParseFileID(id); err != nil {
			t.Fatal(err)
		}
		if err := decodeMBFile(blob, &want); err != nil {
			t.Fatal(err)
		}
		if i >= len(entries) || !reflect.DeepEqual(entries[i], want) {
			t.Fatalf("row %d:\ngot  %#v\nwant %#v", i+1, entries[min(i, len(entries)-1)], want)
		}
	}
	if i != len(entries) {
		t.Fatalf("%d rows, %d entries", i, len(entries))
	}
}

// manyRows writes n good rows (HomeDomain f0000...) and returns the database's path.
func manyRows(t *testing.T, n int, edit func(i int, r *row)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Manifest.db")
	rows := make([]row, n)
	for i := range rows {
		rows[i] = goodRow(t, "HomeDomain", fmt.Sprintf("f%05d", i), 1, 0o100644)
		if edit != nil {
			edit(i, &rows[i])
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(filesSchema); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin() // one transaction: thousands of rows in milliseconds
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var file any
		if r.file != nil {
			file = r.file
		}
		if _, err := tx.Exec("INSERT INTO Files VALUES (?, ?, ?, ?, ?)", r.fileID, r.domain, r.path, r.flags, file); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadDBStopsAtAFatalRowInALaterBatch(t *testing.T) {
	const n, badRow = 5 * batchRows, 3*batchRows + 17 // 1-based
	path := manyRows(t, n, func(i int, r *row) {
		if i == badRow-1 {
			r.fileID = s("../../../../etc/passwd")
		}
	})
	db, err := OpenDBFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	st, err := ReadDB(db, func(e *Entry) error {
		got = append(got, e.Path)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("row %d ", badRow)) || !strings.Contains(err.Error(), "passwd") {
		t.Fatalf("err = %v", err)
	}
	if st.Rows != badRow || st.Entries != badRow-1 || len(got) != badRow-1 || got[len(got)-1] != fmt.Sprintf("f%05d", badRow-2) {
		t.Fatalf("stats %+v, %d entries delivered (last %q)", st, len(got), got[len(got)-1])
	}
	// Every goroutine of the read is gone: Close would wait for an open query.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadDBStopsWhenFnFailsOrContextEnds(t *testing.T) {
	const n = 6 * batchRows
	path := manyRows(t, n, nil)
	db, err := OpenDBFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	stop := errors.New("stop")
	calls := 0
	st, err := ReadDB(db, func(*Entry) error {
		if calls++; calls == 2*batchRows+5 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2*batchRows+5 || st.Entries != 2*batchRows+4 {
		t.Fatalf("fn error: %v after %d calls, stats %+v", err, calls, st)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	st, err = ReadDBContext(ctx, db, func(*Entry) error {
		if calls++; calls == batchRows+1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || st.Entries >= n {
		t.Fatalf("cancel: %v after %d entries", err, st.Entries)
	}
	// The database is still usable: the canceled query released its connection.
	if _, err := ReadDB(db, func(*Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestReadDBCountsAcrossBatches mixes every kind of row over several batches and
// checks the counts and the first bad row against a sequential tally of the same rows.
func TestReadDBCountsAcrossBatches(t *testing.T) {
	const n = 4 * batchRows
	var want DBStats
	firstBad := ""
	path := manyRows(t, n, func(i int, r *row) {
		want.Rows++
		switch {
		case i%7 == 3: // a placeholder: skipped
			r.domain, r.path, r.file, r.flags = nil, nil, nil, flagsNullRow
			want.Skipped++
		case i%11 == 5: // undecodable; some with a wrong fileID, which still counts
			r.file = []byte("not a plist")
			want.BadFile++
			if i%2 == 0 {
				r.fileID = s(ComputeFileID("Other", *r.path).String())
				want.IDMismatch++
			}
			if firstBad == "" {
				firstBad = *r.path
			}
		case i%13 == 6: // wrong fileID (kept), flags disagreeing with Mode
			r.fileID = s(ComputeFileID("Other", *r.path).String())
			r.flags = 2
			want.IDMismatch++
			want.FlagMismatch++
			want.Entries++
		default:
			want.Entries++
		}
	})
	db, err := OpenDBFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, st := readAll(t, db)
	if st.FirstBadFile == nil || !strings.Contains(st.FirstBadFile.Error(), fmt.Sprintf("path %q", firstBad)) {
		t.Fatalf("FirstBadFile = %v, want the row of %q", st.FirstBadFile, firstBad)
	}
	st.FirstBadFile = nil
	if st.Dropped.Count(DropUnreadable) != want.BadFile || st.Dropped.Total() != want.BadFile {
		t.Fatalf("dropped rows reported: %v, want %d unreadable", st.Dropped, want.BadFile)
	}
	st.Dropped = nil
	if st != want {
		t.Fatalf("stats %+v\nwant  %+v", st, want)
	}
}

func TestReadDBEntries(t *testing.T) {
	needFile(t, mvtDB)
	db, err := OpenDBFile(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want, wantSt := readAll(t, db)
	got, st, err := ReadDBEntries(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if st != wantSt || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadDBEntries differs from ReadDB: stats %+v vs %+v", st, wantSt)
	}
	// Sized once from the row count, with room for synthesized directories.
	if cap(got) < len(got)+len(got)/64 || cap(got) > 2*len(got)+16 {
		t.Fatalf("%d entries in a slice of capacity %d", len(got), cap(got))
	}

	// A database whose count fails still reads (and reports) the same way.
	broken, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "none.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	if _, _, err := ReadDBEntries(context.Background(), broken); err == nil || !strings.Contains(err.Error(), "Manifest.db") {
		t.Fatalf("err = %v", err)
	}
}

// readBothWays reads db through filesScanFunc and through result rows, and fails
// unless both give the same entries, stats and error.
func readBothWays(t *testing.T, db *sql.DB) ([]Entry, DBStats, error) {
	t.Helper()
	read := func(rowScan bool) ([]Entry, DBStats, error) {
		forceRowScan = rowScan
		defer func() { forceRowScan = false }()
		var out []Entry
		st, err := ReadDB(db, func(e *Entry) error {
			out = append(out, *e)
			return nil
		})
		return out, st, err
	}
	got, st, err := read(false)
	want, wantSt, wantErr := read(true)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("errors differ:\nfunction: %v\nrows:     %v", err, wantErr)
	}
	if fmt.Sprint(st) != fmt.Sprint(wantSt) || !reflect.DeepEqual(got, want) {
		t.Fatalf("results differ:\nfunction: %+v (%d entries)\nrows:     %+v (%d entries)", st, len(got), wantSt, len(want))
	}
	return got, st, err
}

func TestReadDBFunctionAndRowsAgreeOnSample(t *testing.T) {
	needFile(t, mvtDB)
	db, err := OpenDBFile(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, st, err := readBothWays(t, db)
	if err != nil || st.Entries != mvtRows || len(entries) != mvtRows {
		t.Fatalf("%d entries, stats %+v, err %v", len(entries), st, err)
	}
}

// TestReadDBUnusualColumnTypes stores values of other types than Apple's in every
// column (SQLite lets any column hold any type) and checks that both ways of reading
// convert them alike, as Rows.Scan into ReadDB's types always has.
func TestReadDBUnusualColumnTypes(t *testing.T) {
	a := goodRow(t, "HomeDomain", "x", 1, 0o100644)
	blobAsText := string(a.file)
	cases := map[string]struct {
		values  []any // fileID, domain, relativePath, flags, file
		wantErr string
	}{
		"domain and path as blobs": {[]any{ComputeFileID("HomeDomain", "x").String(), []byte("HomeDomain"), []byte("x"), 1, a.file}, ""},
		"path as a number":         {[]any{ComputeFileID("HomeDomain", "12").String(), "HomeDomain", 12, 1, a.file}, ""},
		"path as a real":           {[]any{ComputeFileID("HomeDomain", "1.5").String(), "HomeDomain", 1.5, 1, a.file}, ""},
		"file as text":             {[]any{ComputeFileID("HomeDomain", "x").String(), "HomeDomain", "x", 1, blobAsText}, ""},
		"file as a number":         {[]any{ComputeFileID("HomeDomain", "x").String(), "HomeDomain", "x", 1, 42}, ""},
		"flags as text":            {[]any{ComputeFileID("HomeDomain", "x").String(), "HomeDomain", "x", "1", a.file}, ""},
		"flags as a whole real":    {[]any{ComputeFileID("HomeDomain", "x").String(), "HomeDomain", "x", 2.0, a.file}, ""},
		"flags as a fraction":      {[]any{ComputeFileID("HomeDomain", "x").String(), "HomeDomain", "x", 1.5, a.file}, `row 2: sql: Scan error on column index 3, name "flags"`},
		"flags as words":           {[]any{ComputeFileID("HomeDomain", "x").String(), "HomeDomain", "x", "file", a.file}, `row 2: sql: Scan error on column index 3, name "flags"`},
		"fileID as blob":           {[]any{[]byte(ComputeFileID("HomeDomain", "x").String()), "HomeDomain", "x", 1, a.file}, ""},
		"fileID as a number":       {[]any{12345, "HomeDomain", "x", 1, a.file}, `fileID "12345"`},
		"empty file":               {[]any{ComputeFileID("HomeDomain", "x").String(), "HomeDomain", "x", 1, []byte{}}, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Manifest.db")
			w, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			first := goodRow(t, "HomeDomain", "first", 1, 0o100644)
			_, err = w.Exec(filesSchema)
			if err == nil {
				_, err = w.Exec("INSERT INTO Files VALUES (?, ?, ?, ?, ?)", *first.fileID, *first.domain, *first.path, first.flags, first.file)
			}
			if err == nil {
				_, err = w.Exec("INSERT INTO Files VALUES (?, ?, ?, ?, ?)", c.values...)
			}
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			db, err := OpenDBFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, st, err := readBothWays(t, db)
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if st.Rows != 2 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestReadDBWithoutTheFunction reads through a connection of another driver
// instance, which lacks filesScanFunc: the rows are read the usual way.
func TestReadDBWithoutTheFunction(t *testing.T) {
	needFile(t, mvtDB)
	drv := &sqlite.Driver{}
	conn, err := drv.Open("file:" + mvtDB + "?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db := sql.OpenDB(driverConnector{drv: drv, dsn: "file:" + mvtDB + "?mode=ro&immutable=1"})
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pragma_function_list WHERE name = ?", filesScanFunc).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the other driver has the function (%d, %v): this test tests nothing", n, err)
	}
	entries, st := readAll(t, db)
	if st.Entries != mvtRows || len(entries) != mvtRows {
		t.Fatalf("stats %+v", st)
	}
}

type driverConnector struct {
	drv *sqlite.Driver
	dsn string
}

func (c driverConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c driverConnector) Driver() driver.Driver                        { return c.drv }

// TestReadDBWhenAllSlotsAreTaken reads while filesScanFunc has no free slot: the rows
// are read the usual way.
func TestReadDBWhenAllSlotsAreTaken(t *testing.T) {
	needFile(t, mvtDB)
	db, err := OpenDBFile(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want, wantSt := readAll(t, db)
	dummy := new(dbPipeline)
	filesScans.Lock()
	for i := range filesScans.p {
		filesScans.p[i] = dummy
	}
	filesScans.Unlock()
	defer func() {
		filesScans.Lock()
		clear(filesScans.p[:])
		filesScans.Unlock()
	}()
	got, st := readAll(t, db)
	if st != wantSt || !reflect.DeepEqual(got, want) {
		t.Fatalf("stats %+v, want %+v", st, wantSt)
	}
}

func BenchmarkDecodeMBFile(b *testing.B) {
	blobs := sampleBlobs(b)
	for _, c := range []struct {
		name   string
		decode func([]byte, *Entry, *mbDecoder) bool
	}{
		{"fast", decodeMBFileFast},
		{"slow", func(d []byte, e *Entry, _ *mbDecoder) bool { return decodeMBFile(d, e) == nil }},
	} {
		b.Run(c.name, func(b *testing.B) {
			dec := mbDecoder{mem: new(byteArena)}
			var e Entry
			n := 0
			for b.Loop() {
				if !c.decode(blobs[n%len(blobs)], &e, &dec) {
					b.Fatal("refused")
				}
				n++
			}
		})
	}
}
