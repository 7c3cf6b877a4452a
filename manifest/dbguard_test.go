package manifest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The hostile-input suite for Manifest.db: small databases whose schema makes SQLite
// compute enormous values (issue 10, item 3). Each is read in a child process (this
// test binary again) under a 2 GiB address-space limit, so that a regression fails
// the test with "out of memory" instead of taking the machine's memory; the child
// reports its error and its peak RSS.

const hostileChildEnv = "IOSBACKUP_HOSTILE_DB_CHILD"

// hostileSchemas build a Files table that is not the plain one: each would make a read
// build a value of hundreds of MB per row.
var hostileSchemas = map[string]struct {
	sql   string // run on a fresh database
	alter string // run once the rows are in (adding a generated column computes nothing)
	want  string // in the error
}{
	"generated relativePath": {`CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, p TEXT, flags INTEGER, file BLOB)`,
		`ALTER TABLE Files ADD COLUMN relativePath TEXT GENERATED ALWAYS AS (printf('%.*c', 300000000, 'x')) VIRTUAL`,
		`column "relativePath" of Files is generated`},
	"generated domain": {`CREATE TABLE Files (fileID TEXT PRIMARY KEY, relativePath TEXT, flags INTEGER, file BLOB)`,
		`ALTER TABLE Files ADD COLUMN domain TEXT GENERATED ALWAYS AS (printf('%.*c', 300000000, 'd'))`,
		`column "domain" of Files is generated`},
	"generated file": {`CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, f0 BLOB)`,
		`ALTER TABLE Files ADD COLUMN file BLOB GENERATED ALWAYS AS (f0 || zeroblob(900000000))`,
		`column "file" of Files is generated`},
	"generated fileID": {`CREATE TABLE Files (domain TEXT, relativePath TEXT, flags INTEGER, file BLOB, f TEXT)`,
		`ALTER TABLE Files ADD COLUMN fileID TEXT GENERATED ALWAYS AS (f || printf('%.*c', 300000000, '0'))`,
		`column "fileID" of Files is generated`},
	"view": {`CREATE TABLE F0 (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
		CREATE VIEW Files AS SELECT fileID, domain, printf('%.*c', 300000000, 'x') AS relativePath, flags, file FROM F0`, "", "Files is a view"},
	"trigger":       {filesSchema, `CREATE TRIGGER t AFTER INSERT ON Files BEGIN SELECT 1; END`, `trigger "t"`},
	"other view":    {filesSchema + `; CREATE VIEW v AS SELECT 1`, "", `view "v"`},
	"virtual table": {`CREATE VIRTUAL TABLE Files USING fts5(fileID, domain, relativePath, flags, file)`, "", "virtual table"},
}

// writeHostileDB creates a database with schema and two rows in whatever table holds
// the stored columns, then runs alter.
func writeHostileDB(t testing.TB, schema, alter string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Manifest.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		t.Fatalf("%s: %v", schema, err)
	}
	target := "Files"
	if strings.Contains(schema, "CREATE TABLE F0") {
		target = "F0"
	}
	var stored []string
	rows, err := db.Query(`SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0`, target)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		stored = append(stored, n)
	}
	rows.Close()
	for _, p := range []string{"Library/SMS/sms.db", "Library/Notes/notes.sqlite"} {
		good := goodRow(t, "HomeDomain", p, 1, 0o100644)
		cols := map[string]any{"fileID": *good.fileID, "domain": *good.domain, "relativePath": *good.path,
			"flags": good.flags, "file": good.file, "f0": good.file, "p": *good.path, "f": (*good.fileID)[:4]}
		var names []string
		var vals []any
		for _, n := range stored {
			if v, ok := cols[n]; ok {
				names, vals = append(names, n), append(vals, v)
			}
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", target, strings.Join(names, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", "))
		if _, err := db.Exec(q, vals...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if alter != "" {
		if _, err := db.Exec(alter); err != nil {
			t.Fatalf("%s: %v", alter, err)
		}
	}
	return path
}

// childResult is what the child process reports.
type childResult struct {
	Err     string
	Entries int
	HWMKiB  int64 // peak resident set size
}

// runHostileChild reads the database at path in a child under a 2 GiB address-space
// limit. how says how: "file" (OpenDBFile then ReadDBEntries), "reader" (OpenDBReader
// over the bytes, as an encrypted backup is read), "raw" (sql.Open, no open-time check:
// ReadDB must check on its own), "limit" (the length limit alone, no schema check).
func runHostileChild(t *testing.T, path, how string) childResult {
	t.Helper()
	cmd := limitedChild(os.Args[0], "-test.run=^TestHostileManifestDBChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), hostileChildEnv+"="+how+":"+path)
	out, err := cmd.CombinedOutput()
	_, line, ok := strings.Cut(string(out), "HOSTILERESULT ")
	if !ok {
		t.Fatalf("child (%s) reported nothing: %v\n%s", how, err, out)
	}
	line, _, _ = strings.Cut(line, "\n")
	var res childResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("child said %q: %v", line, err)
	}
	return res
}

// TestHostileManifestDBChild is the child of runHostileChild.
func TestHostileManifestDBChild(t *testing.T) {
	how, path, ok := strings.Cut(os.Getenv(hostileChildEnv), ":")
	if !ok {
		t.Skip("run by the hostile Manifest.db tests")
	}
	var res childResult
	err := func() error {
		var db *sql.DB
		var err error
		switch how {
		case "file":
			db, err = OpenDBFile(path)
		case "reader":
			var data []byte
			if data, err = os.ReadFile(path); err == nil {
				db, _, err = OpenDBReader(bytes.NewReader(data), int64(len(data)))
			}
		case "raw", "limit":
			db, err = sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
		}
		if err != nil {
			return err
		}
		defer db.Close()
		if how == "limit" {
			conn, err := db.Conn(context.Background())
			if err != nil {
				return err
			}
			defer conn.Close()
			if err := limitConn(conn); err != nil {
				return err
			}
			st, err := readFiles(context.Background(), conn, func(*Entry) error { return nil })
			res.Entries = st.Entries
			return err
		}
		entries, _, err := ReadDBEntries(context.Background(), db)
		res.Entries = len(entries)
		return err
	}()
	if err != nil {
		res.Err = err.Error()
	}
	res.HWMKiB = vmHWM(t)
	line, _ := json.Marshal(res)
	fmt.Printf("HOSTILERESULT %s\n", line)
}

// maxHostileHWMKiB is far below the values the hostile schemas ask for (300-900 MB):
// reading a small database must never come near them.
const maxHostileHWMKiB = 200 << 10

func TestHostileManifestDBSchemaRefused(t *testing.T) {
	for name, c := range hostileSchemas {
		t.Run(name, func(t *testing.T) {
			path := writeHostileDB(t, c.sql, c.alter)
			for _, how := range []string{"file", "reader", "raw"} {
				res := runHostileChild(t, path, how)
				if !strings.Contains(res.Err, c.want) || !strings.Contains(res.Err, "Manifest.db") {
					t.Errorf("%s: error %q, want one naming Manifest.db and saying %q", how, res.Err, c.want)
				}
				if how == "file" && !strings.Contains(res.Err, path) {
					t.Errorf("%s: error %q does not name %s", how, res.Err, path)
				}
				if res.HWMKiB > maxHostileHWMKiB {
					t.Errorf("%s: peak RSS %d KiB reading a %s", how, res.HWMKiB, name)
				}
			}
		})
	}
}

// TestHostileManifestDBComputedDefault stores rows without their last column and gives
// that column a computed DEFAULT, through writable_schema as a hostile tool would: the
// DEFAULT is refused by the schema check. (This SQLite does not compute such a default,
// it reads NULL; the check does not depend on that.)
func TestHostileManifestDBComputedDefault(t *testing.T) {
	path := writeHostileDB(t, `CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, flags INTEGER, file BLOB, relativePath TEXT)`, "")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// The rows as stored have relativePath; drop it from them by rebuilding with four
	// columns, then declare a fifth with the DEFAULT.
	for _, q := range []string{
		`CREATE TABLE F4 (fileID TEXT PRIMARY KEY, domain TEXT, flags INTEGER, file BLOB)`,
		`INSERT INTO F4 SELECT fileID, domain, flags, file FROM Files`,
		`DROP TABLE Files`,
		`ALTER TABLE F4 RENAME TO Files`,
		`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_master SET sql = 'CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, flags INTEGER, file BLOB, relativePath TEXT DEFAULT (printf(''%.*c'', 300000000, ''x'')))' WHERE name = 'Files'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	res := runHostileChild(t, path, "file")
	if !strings.Contains(res.Err, `column "relativePath" of Files has a DEFAULT`) || !strings.Contains(res.Err, path) {
		t.Errorf("open: error %q", res.Err)
	}
	if res := runHostileChild(t, path, "limit"); res.HWMKiB > maxHostileHWMKiB {
		t.Errorf("without the schema check: peak RSS %d KiB (%+v)", res.HWMKiB, res)
	}
}

// TestHostileManifestDBLengthLimitAlone reads a generated column with the schema check
// bypassed: the length limit alone turns the 300 MB value into an error.
func TestHostileManifestDBLengthLimitAlone(t *testing.T) {
	for _, name := range []string{"generated relativePath", "generated file"} {
		c := hostileSchemas[name]
		path := writeHostileDB(t, c.sql, c.alter)
		res := runHostileChild(t, path, "limit")
		if !strings.Contains(res.Err, "more than any real Manifest.db holds") || res.HWMKiB > maxHostileHWMKiB {
			t.Errorf("%s: error %q, peak RSS %d KiB", name, res.Err, res.HWMKiB)
		}
	}
}

// TestPlainManifestDBPassesTheGuards: Apple's schema (with its indexes) and the real
// sample are read as before.
func TestPlainManifestDBPassesTheGuards(t *testing.T) {
	path := writeHostileDB(t, filesSchema+`; CREATE INDEX FilesDomainIdx ON Files(domain);
		CREATE INDEX FilesRelativePathIdx ON Files(relativePath); CREATE INDEX FilesFlagsIdx ON Files(flags)`, "")
	res := runHostileChild(t, path, "file")
	if res.Err != "" || res.Entries != 2 {
		t.Fatalf("plain schema: %+v", res)
	}
	needFile(t, mvtDB)
	if res := runHostileChild(t, mvtDB, "file"); res.Err != "" || res.Entries != mvtRows {
		t.Fatalf("sample: %+v", res)
	}
}

// FuzzReadDBBytes reads arbitrary bytes as a Manifest.db, as an encrypted backup's is
// read (through OpenDBReader): the hostile schemas above are its seeds. Whatever the
// bytes, the read ends with entries or an error, every entry is a file, folder or
// symlink, and every row left out is reported.
func FuzzReadDBBytes(f *testing.F) {
	seeds := [][2]string{{filesSchema, ""}}
	for _, c := range hostileSchemas {
		seeds = append(seeds, [2]string{c.sql, c.alter})
	}
	for _, schema := range seeds {
		data, err := os.ReadFile(writeHostileDB(f, schema[0], schema[1]))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		db, closeDB, err := OpenDBReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		defer closeDB()
		var entries []Entry
		st, err := ReadDB(db, func(e *Entry) error {
			if e.Kind == 0 {
				t.Fatalf("entry of no kind: %+v", e)
			}
			entries = append(entries, *e)
			return nil
		})
		if err != nil {
			return
		}
		if st.Dropped.Total() != st.BadFile || st.Rows != st.Entries+st.Skipped+st.BadFile {
			t.Fatalf("stats %+v: rows unaccounted for", st)
		}
		n := len(entries)
		ix, ist := NewIndex(entries)
		kept := 0
		for i := int32(0); i < int32(ix.Len()); i++ {
			if !ix.Entry(i).Synthetic {
				kept++
			}
		}
		if kept+ist.Dropped.Total() != n {
			t.Fatalf("%d entries read, %d in the index, %d reported left out", n, kept, ist.Dropped.Total())
		}
	})
}
