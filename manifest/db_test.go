package manifest

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"iosbackup/internal/testenv"
)

const filesSchema = `CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);`

// readAll collects ReadDB's entries, copying each as the contract asks.
func readAll(t testing.TB, db *sql.DB) ([]Entry, DBStats) {
	t.Helper()
	var out []Entry
	st, err := ReadDB(db, func(e *Entry) error {
		out = append(out, *e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, st
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].Domain != es[j].Domain {
			return es[i].Domain < es[j].Domain
		}
		return es[i].Path < es[j].Path
	})
}

func TestReadDBSample(t *testing.T) {
	needFile(t, mvtDB)
	before := dirState(t, mvtDir)
	db, err := OpenDBFile(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	entries, st := readAll(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dirState(t, mvtDir); after != before {
		t.Fatalf("opening the sample changed its folder:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	want := DBStats{Rows: mvtRows, Entries: mvtRows}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	domains := map[string]bool{}
	badIDs := 0
	for i := range entries {
		e := &entries[i]
		domains[e.Domain] = true
		if e.ID != ComputeFileID(e.Domain, e.Path) {
			badIDs++
		}
		if e.Kind == 0 || e.Kind != kindFromMode(e.Mode) {
			t.Fatalf("%s/%s: kind %v for mode %o", e.Domain, e.Path, e.Kind, e.Mode)
		}
	}
	if len(domains) != mvtDomains || badIDs != 0 {
		t.Fatalf("%d domains (want %d), %d fileIDs not SHA-1(domain-path)", len(domains), mvtDomains, badIDs)
	}
	// Interning: entries of one domain share the string's bytes.
	seen := map[string]*byte{}
	for _, e := range entries {
		p := unsafe.StringData(e.Domain)
		if q, ok := seen[e.Domain]; ok && q != p {
			t.Fatalf("domain %q not interned", e.Domain)
		}
		seen[e.Domain] = p
	}

	t.Run("sqlite3 CLI", func(t *testing.T) { compareWithCLI(t, entries) })
	t.Run("python plistlib", func(t *testing.T) { compareWithPython(t, entries) })
}

// compareWithCLI checks the identity columns against the sqlite3 command-line tool.
func compareWithCLI(t *testing.T, entries []Entry) {
	cli := testenv.RequireTool(t, "sqlite3")
	out, err := exec.Command(cli, "-readonly", "file:"+mvtDB+"?immutable=1",
		"SELECT fileID, hex(domain), hex(relativePath), flags FROM Files").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		d, _ := hex.DecodeString(f[1])
		p, _ := hex.DecodeString(f[2])
		want[f[0]] = fmt.Sprintf("%s|%s|%s", d, p, f[3])
	}
	if len(want) != mvtRows {
		t.Fatalf("CLI gave %d rows", len(want))
	}
	flagOf := map[Kind]int{KindFile: 1, KindDir: 2, KindSymlink: 4}
	for _, e := range entries {
		got := fmt.Sprintf("%s|%s|%d", e.Domain, e.Path, flagOf[e.Kind])
		if want[e.ID.String()] != got {
			t.Fatalf("fileID %s: got %q, CLI says %q", e.ID, got, want[e.ID.String()])
		}
		delete(want, e.ID.String())
	}
	if len(want) != 0 {
		t.Fatalf("%d rows missing", len(want))
	}
}

// pythonDump decodes every row with Python's sqlite3 and plistlib: a second, unrelated
// implementation of both SQLite and binary plists.
const pythonDump = `
import sqlite3, plistlib, json, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?immutable=1", uri=True)
for fid, dom, path, flags, blob in c.execute("SELECT fileID, domain, relativePath, flags, file FROM Files"):
    a = plistlib.loads(blob)
    o = a["$objects"]
    r = o[a["$top"]["root"].data]
    def ref(k):
        v = r.get(k)
        return o[v.data] if isinstance(v, plistlib.UID) else v
    key = ref("EncryptionKey")
    x = ref("ExtendedAttributes")
    print(json.dumps({
        "id": fid, "mode": r["Mode"], "uid": r["UserID"] & 0xffffffff, "gid": r["GroupID"] & 0xffffffff,
        "inode": r["InodeNumber"], "size": r["Size"], "birth": r["Birth"], "mtime": r["LastModified"],
        "ctime": r["LastStatusChange"], "class": r["ProtectionClass"],
        "key": key["NS.data"][4:].hex() if key else "",
        "digest": ref("Digest").hex() if "Digest" in r else "",
        "target": ref("Target") or "",
        "xattrs": {k: v.hex() for k, v in plistlib.loads(x).items()} if x else {},
    }))
`

func compareWithPython(t *testing.T, entries []Entry) {
	py := testenv.RequireTool(t, "python3")
	out, err := exec.Command(py, "-c", pythonDump, mvtDB).Output()
	if err != nil {
		t.Skipf("python3 could not decode the sample: %v", err)
	}
	type rec struct {
		ID, Key, Digest, Target                          string
		Mode, UID, GID, Inode, Size, Birth, MTime, CTime int64
		Class                                            uint32
		XAttrs                                           map[string]string
	}
	want := map[string]rec{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			ID     string            `json:"id"`
			Mode   int64             `json:"mode"`
			UID    int64             `json:"uid"`
			GID    int64             `json:"gid"`
			Inode  int64             `json:"inode"`
			Size   int64             `json:"size"`
			Birth  int64             `json:"birth"`
			MTime  int64             `json:"mtime"`
			CTime  int64             `json:"ctime"`
			Class  uint32            `json:"class"`
			Key    string            `json:"key"`
			Digest string            `json:"digest"`
			Target string            `json:"target"`
			XAttrs map[string]string `json:"xattrs"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.XAttrs) == 0 {
			r.XAttrs = nil
		}
		want[r.ID] = rec{r.ID, r.Key, r.Digest, r.Target, r.Mode, r.UID, r.GID, r.Inode, r.Size, r.Birth, r.MTime, r.CTime, r.Class, r.XAttrs}
	}
	if len(want) != mvtRows {
		t.Fatalf("python gave %d rows", len(want))
	}
	for _, e := range entries {
		var xa map[string]string
		for k, v := range e.XAttrs() {
			if xa == nil {
				xa = map[string]string{}
			}
			xa[k] = hex.EncodeToString(v)
		}
		got := rec{e.ID.String(), hex.EncodeToString(e.WrappedKeyBytes()), hex.EncodeToString(e.Digest()), e.Target(),
			int64(e.Mode), int64(e.UID), int64(e.GID), int64(e.Inode), e.Size, e.Birth, e.MTime, e.CTime, e.ProtectionClass, xa}
		if !reflect.DeepEqual(got, want[got.ID]) {
			t.Fatalf("%s/%s:\ngot    %+v\npython %+v", e.Domain, e.Path, got, want[got.ID])
		}
	}
}

func TestOpenDBReaderMatchesFile(t *testing.T) {
	needFile(t, mvtDB)
	fdb, err := OpenDBFile(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _ := readAll(t, fdb)
	fdb.Close()

	f, err := os.Open(mvtDB)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	rdb, closeDB, err := OpenDBReader(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	fromReader, st := readAll(t, rdb)
	if st.Entries != mvtRows {
		t.Fatalf("stats %+v", st)
	}
	if err := closeDB(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := rdb.Ping(); err == nil {
		t.Fatal("DB still usable after close")
	}
	sortEntries(fromFile)
	sortEntries(fromReader)
	if !reflect.DeepEqual(fromFile, fromReader) {
		t.Fatal("entries read through the VFS differ from the file's")
	}
}

func TestOpenDBReaderRejectsGarbage(t *testing.T) {
	garbage := bytes.Repeat([]byte("not sqlite"), 1000)
	_, _, err := OpenDBReader(bytes.NewReader(garbage), int64(len(garbage)))
	if err == nil || !strings.Contains(err.Error(), "not a SQLite database") {
		t.Fatalf("err = %v", err)
	}
	// The encrypted sample's Manifest.db is ciphertext until decrypted.
	enc := filepath.Join(encryptedDir, "Manifest.db")
	needFile(t, enc)
	dir := t.TempDir()
	copyFile(t, enc, filepath.Join(dir, "Manifest.db"))
	if _, err := OpenDBFile(filepath.Join(dir, "Manifest.db")); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("encrypted Manifest.db opened: %v", err)
	}
}

func TestOpenDBFileErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenDBFile(filepath.Join(dir, "Manifest.db"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "Manifest.db") {
		t.Fatalf("missing file: %v", err)
	}
	// A SQLite database, but not a manifest.
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := OpenDBFile(other); err == nil || !strings.Contains(err.Error(), "no Files table") {
		t.Fatalf("err = %v", err)
	}
}

// row is one Files row for a synthetic Manifest.db; nil pointers are NULL.
type row struct {
	fileID, domain, path *string
	flags                any
	file                 []byte
}

func s(v string) *string { return &v }

func writeManifestDB(t testing.TB, path string, rows []row) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(filesSchema); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var file any
		if r.file != nil {
			file = r.file
		}
		if _, err := db.Exec("INSERT INTO Files VALUES (?, ?, ?, ?, ?)", r.fileID, r.domain, r.path, r.flags, file); err != nil {
			t.Fatal(err)
		}
	}
}

// goodRow is a valid row for (domain, path) with an MBFile of the given mode.
func goodRow(t testing.TB, domain, path string, flags int, mode int64) row {
	a := newTestArchive()
	return row{s(ComputeFileID(domain, path).String()), s(domain), s(path), flags,
		a.encode(t, map[string]any{"Mode": mode, "RelativePath": a.add(path), "Size": int64(len(path))})}
}

func TestReadDBSkipsAndCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Manifest.db")
	big := make([]byte, MaxMBFileSize+1)
	rand.Read(big)
	noMode := goodRow(t, "HomeDomain", "nomode", 1, 0)
	noMode.file = newTestArchive().encode(t, map[string]any{"Size": int64(5)})
	rows := []row{
		goodRow(t, "HomeDomain", "", 2, 0o40755),
		goodRow(t, "HomeDomain", "Library", 2, 0o40755),
		goodRow(t, "HomeDomain", "Library/a.db", 1, 0o100644),
		goodRow(t, "HomeDomain", "Library/link", 4, 0o120755),
		goodRow(t, "MediaDomain", "mismatch", 2, 0o100600), // flags say dir, Mode says file
		noMode, // no Mode: the type comes from flags
		{s(ComputeFileID("HomeDomain", "null-domain").String()), nil, s("null-domain"), 1, []byte("x")},
		{s(ComputeFileID("HomeDomain", "null-path").String()), s("HomeDomain"), nil, 1, []byte("x")},
		{s(ComputeFileID("HomeDomain", "null-file").String()), s("HomeDomain"), s("null-file"), 1, nil},
		{s(strings.Repeat("0", 40)), nil, nil, 16, nil},
		{nil, nil, nil, 16, nil}, // fileID NULL too: still just skipped
		{s(ComputeFileID("HomeDomain", "garbage").String()), s("HomeDomain"), s("garbage"), 1, []byte("garbage")},
		{s(ComputeFileID("HomeDomain", "big").String()), s("HomeDomain"), s("big"), 1, big},
		{s(ComputeFileID("HomeDomain", "empty").String()), s("HomeDomain"), s("empty"), 1, []byte{}},
		{s(ComputeFileID("HomeDomain", "fifo").String()), s("HomeDomain"), s("fifo"), 8, goodRow(t, "x", "y", 0, 0o010644).file},
		{s(strings.ToUpper(ComputeFileID("HomeDomain", "wrong-id").String()[:39]) + "0"), s("HomeDomain"), s("wrong-id"), 1, goodRow(t, "x", "y", 0, 0o100644).file},
	}
	writeManifestDB(t, path, rows)
	db, err := OpenDBFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, st := readAll(t, db)
	st.FirstBadFile = nil
	// Every row left out is named with its reason; the placeholders (flags 16) are not.
	wantDrops := map[string]DropReason{"null-domain": DropMissing, "null-path": DropMissing, "null-file": DropMissing,
		"garbage": DropUnreadable, "big": DropTooLong, "empty": DropUnreadable, "fifo": DropNoType}
	for _, d := range st.Dropped.Rows() {
		name := d.Path
		if name == "" {
			name = "null-path" // the row whose relativePath is NULL: named by its fileID
			if d.FileID != ComputeFileID("HomeDomain", "null-path").String() {
				t.Errorf("dropped row without a path: %v", d)
			}
		}
		if wantDrops[name] != d.Reason || d.Row == 0 {
			t.Errorf("dropped %v, want reason %v", d, wantDrops[name])
		}
		delete(wantDrops, name)
	}
	if len(wantDrops) != 0 || st.Dropped.Total() != 7 || !st.Dropped.Complete() {
		t.Errorf("not reported as dropped: %v; report: %v", wantDrops, st.Dropped)
	}
	st.Dropped = nil
	want := DBStats{Rows: len(rows), Entries: 7, Skipped: 2, BadFile: 7, FlagMismatch: 1, ModeFromFlags: 1, IDMismatch: 1}
	if st != want {
		t.Fatalf("stats %+v\nwant  %+v", st, want)
	}
	got := map[string]Entry{}
	for _, e := range entries {
		got[e.Path] = e
	}
	if e := got["mismatch"]; e.Kind != KindFile || e.Mode != 0o100600 {
		t.Fatalf("mismatch: Mode not trusted: %+v", e)
	}
	if e := got["nomode"]; e.Kind != KindFile || e.Mode != 0o100000 || e.Size != 5 {
		t.Fatalf("nomode: %+v", e)
	}
	if e := got["Library/a.db"]; e.Kind != KindFile || e.Size != int64(len("Library/a.db")) || e.ID != ComputeFileID("HomeDomain", "Library/a.db") {
		t.Fatalf("a.db: %+v", e)
	}
	if e := got["wrong-id"]; e.ID == ComputeFileID("HomeDomain", "wrong-id") {
		t.Fatal("stored fileID replaced")
	}
	if _, ok := got[""]; !ok {
		t.Fatal("domain root (empty relativePath) lost")
	}

	// The first bad file is named precisely.
	_, st, err = func() ([]Entry, DBStats, error) {
		st, err := ReadDB(db, func(*Entry) error { return nil })
		return nil, st, err
	}()
	if err != nil || st.FirstBadFile == nil || !strings.Contains(st.FirstBadFile.Error(), `path "null-domain"): domain is NULL`) {
		t.Fatalf("FirstBadFile = %v (err %v)", st.FirstBadFile, err)
	}

	// An error from fn stops the read and comes back unchanged.
	stop := errors.New("stop")
	n := 0
	if _, err := ReadDB(db, func(*Entry) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("fn error: %v after %d calls", err, n)
	}
}

func TestReadDBRejectsHostileFileID(t *testing.T) {
	for _, id := range []string{"../../etc/passwd", strings.Repeat("g", 40), "", strings.Repeat("a", 41)} {
		path := filepath.Join(t.TempDir(), "Manifest.db")
		good := goodRow(t, "HomeDomain", "ok", 1, 0o100644)
		bad := goodRow(t, "HomeDomain", "evil", 1, 0o100644)
		bad.fileID = s(id)
		writeManifestDB(t, path, []row{good, bad})
		db, err := OpenDBFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		_, err = ReadDB(db, func(*Entry) error { n++; return nil })
		db.Close()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", id)) || !strings.Contains(err.Error(), "row 2") {
			t.Fatalf("fileID %q: err = %v", id, err)
		}
		if n != 1 {
			t.Fatalf("fileID %q: %d entries delivered before the error", id, n)
		}
	}
	// NULL fileID on an otherwise complete row.
	path := filepath.Join(t.TempDir(), "Manifest.db")
	bad := goodRow(t, "HomeDomain", "evil", 1, 0o100644)
	bad.fileID = nil
	writeManifestDB(t, path, []row{bad})
	db, err := OpenDBFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := ReadDB(db, func(*Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "NULL") {
		t.Fatalf("NULL fileID: %v", err)
	}
}

// TestOpenDBFileHonoursWAL builds a Manifest.db whose last rows are still in its
// -wal, as a backup interrupted before a checkpoint leaves it, and checks that
// OpenDBFile sees them and leaves both files exactly as they were (no -shm).
func TestOpenDBFileHonoursWAL(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	w, err := sql.Open("sqlite", filepath.Join(src, "Manifest.db")+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	insert := func(p string) {
		r := goodRow(t, "HomeDomain", p, 1, 0o100644)
		if _, err := w.Exec("INSERT INTO Files VALUES (?, ?, ?, ?, ?)", *r.fileID, *r.domain, *r.path, r.flags, r.file); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Exec(filesSchema); err != nil {
		t.Fatal(err)
	}
	insert("in-db-1")
	insert("in-db-2")
	if _, err := w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	insert("in-wal-1")
	insert("in-wal-2")
	insert("in-wal-3")
	// Copy while the writer is open: its close would checkpoint and delete the WAL.
	for _, n := range []string{"Manifest.db", "Manifest.db-wal"} {
		copyFile(t, filepath.Join(src, n), filepath.Join(dst, n))
	}
	if fi, err := os.Stat(filepath.Join(dst, "Manifest.db-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("test setup: no WAL to honour (%v)", err)
	}
	before := dirState(t, dst)

	// What immutable=1 alone would have shown: the rows in the WAL are missing.
	imm, err := sql.Open("sqlite", "file:"+filepath.Join(dst, "Manifest.db")+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	var stale int
	if err := imm.QueryRow("SELECT count(*) FROM Files").Scan(&stale); err != nil {
		t.Fatal(err)
	}
	imm.Close()

	db, err := OpenDBFile(filepath.Join(dst, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	entries, st := readAll(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Entries != 5 || len(entries) != 5 || stale != 2 {
		t.Fatalf("read %d entries (stats %+v); immutable alone saw %d", len(entries), st, stale)
	}
	if after := dirState(t, dst); after != before {
		t.Fatalf("folder changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestFileURIEscapes opens a Manifest.db in a folder whose name holds the characters a
// file: URI gives a meaning to (oddFolderName: '?' only where the platform allows it).
// On Windows the temporary folder is also a drive-letter path (C:\...).
func TestFileURIEscapes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), oddFolderName)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "Manifest.db")
	writeManifestDB(t, plain, []row{goodRow(t, "HomeDomain", "x", 1, 0o100644)})
	path := filepath.Join(dir, "Manifest.db")
	if err := os.Rename(plain, path); err != nil {
		t.Fatal(err)
	}
	db, err := OpenDBFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if es, _ := readAll(t, db); len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
}

func TestReaderFS(t *testing.T) {
	data := []byte("0123456789")
	fsys := ReaderFS("db", bytes.NewReader(data), int64(len(data)))
	if _, err := fsys.Open("other"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open other: %v", err)
	}
	f1, err := fsys.Open("db")
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := fsys.Open("db")
	buf := make([]byte, 4)
	f1.Read(buf)
	if _, err := f1.(interface {
		Seek(int64, int) (int64, error)
	}).Seek(6, 0); err != nil {
		t.Fatal(err)
	}
	f1.Read(buf)
	b2 := make([]byte, 3)
	f2.Read(b2)
	if string(buf) != "6789" || string(b2) != "012" {
		t.Fatalf("handles share an offset: %q %q", buf, b2)
	}
	fi, _ := f1.Stat()
	if fi.Size() != 10 || fi.Name() != "db" || fi.IsDir() || fi.ModTime() != (time.Time{}) {
		t.Fatalf("stat: %v %v %v", fi.Size(), fi.Name(), fi.IsDir())
	}
}

func BenchmarkReadDB(b *testing.B) {
	needFile(b, mvtDB)
	db, err := OpenDBFile(mvtDB)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows := 0
	start := time.Now()
	for b.Loop() {
		st, err := ReadDB(db, func(*Entry) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		rows += st.Rows
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}
