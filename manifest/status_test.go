package manifest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"howett.net/plist"

	"iosbackup/internal/testenv"
)

func TestStatusComplete(t *testing.T) {
	for _, c := range []struct {
		state string
		want  bool
	}{{"finished", true}, {"uploading", false}, {"", false}, {"Finished", false}} {
		data, err := plist.Marshal(map[string]any{"SnapshotState": c.state, "BackupState": "new"}, plist.BinaryFormat)
		if err != nil {
			t.Fatal(err)
		}
		if got := StatusComplete(data); got != c.want {
			t.Errorf("SnapshotState %q: complete %v, want %v", c.state, got, c.want)
		}
		if got := StatusState(data); got != c.state {
			t.Errorf("StatusState %q, want %q", got, c.state)
		}
	}
	if StatusComplete([]byte("bplist00 not really")) || StatusComplete(nil) {
		t.Error("a damaged Status.plist counts as complete")
	}
	var none *Status
	if none.Complete() {
		t.Error("no Status.plist counts as complete")
	}
	// The encrypted sample's Status.plist is an empty dict: not complete.
	data, err := os.ReadFile(filepath.Join(encryptedDir, "Status.plist"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatus(data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Complete() {
		t.Error("an empty Status.plist counts as complete")
	}
}

// TestOpenSQLiteReader: a database made by the sqlite3 CLI opens from an io.ReaderAt
// (any tables) and passes quick_check; bytes that are no database fail to open.
func TestOpenSQLiteReader(t *testing.T) {
	cli := testenv.RequireTool(t, "sqlite3")
	path := filepath.Join(t.TempDir(), "t.db")
	if out, err := exec.Command(cli, path, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES ('hello');").CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := OpenSQLiteReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var check, x string
	if err := db.QueryRow("PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("quick_check %q %v", check, err)
	}
	if err := db.QueryRow("SELECT x FROM notes").Scan(&x); err != nil || x != "hello" {
		t.Fatalf("select %q %v", x, err)
	}
	db.Close()
	junk := append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xa5}, 4080)...)
	if db, err := OpenSQLiteReader(bytes.NewReader(junk), int64(len(junk))); err == nil {
		db.Close()
		t.Fatal("random bytes behind a SQLite header opened")
	}
}
