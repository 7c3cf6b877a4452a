package history

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"iosbackup/internal/gen"
)

// TestSealRecordsWhatSha256sumSays seals a generated backup and checks the record
// against GNU sha256sum and stat, file by file, and that every file became read-only.
func TestSealRecordsWhatSha256sumSays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snap")
	if _, err := gen.Generate(dir, gen.Options{Seed: 3, Entries: 300}); err != nil {
		t.Fatal(err)
	}
	if err := Seal(dir, ""); err != nil {
		t.Fatal(err)
	}
	rec, err := ReadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", "cd '"+dir+"' && find . -type f ! -name '"+RecordName+"' -printf '%P\\n' | sort | xargs -d '\\n' sha256sum").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if got := len(rec.All()); got != len(lines) || len(rec.Blobs) < 100 {
		t.Fatalf("record has %d files (%d blobs), sha256sum saw %d", got, len(rec.Blobs), len(lines))
	}
	for _, l := range lines {
		sum, p, _ := strings.Cut(l, "  ")
		b, ok := rec.Files[p]
		if id, isBlob := FileIDOf(p); isBlob {
			b, ok = rec.Blobs[id]
		}
		if !ok || hex.EncodeToString(b.SHA256[:]) != sum || b.Path != p {
			t.Fatalf("%s: recorded %+v, sha256sum says %s", p, b, sum)
		}
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil || fi.Size() != b.Size || fi.Mode().Perm() != 0o444 {
			t.Fatalf("%s: stat %v %v, recorded size %d, want mode 0444", p, fi.Mode(), err, b.Size)
		}
		if err := CheckFile(dir, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := rec.Files["Manifest.db"]; !ok {
		t.Fatal("Manifest.db not recorded")
	}
}

// TestCheckFileCatchesChanges rewrites a sealed blob in place (as root can, read-only
// or not), truncates another and replaces a third with a symlink: each is named.
func TestCheckFileCatchesChanges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snap")
	if _, err := gen.Generate(dir, gen.Options{Seed: 4, Entries: 200}); err != nil {
		t.Fatal(err)
	}
	if err := Seal(dir, ""); err != nil {
		t.Fatal(err)
	}
	rec, err := ReadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	var blobs []BlobRecord
	for _, b := range rec.All() {
		if _, ok := FileIDOf(b.Path); ok && b.Size > 4 {
			blobs = append(blobs, b)
		}
	}
	if len(blobs) < 3 {
		t.Fatalf("only %d blobs", len(blobs))
	}
	same, short, link := blobs[0], blobs[1], blobs[2]
	f, err := os.OpenFile(filepath.Join(dir, same.Path), os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("cannot write a read-only file (not root): %v", err)
	}
	if _, err := f.WriteAt([]byte{'X' ^ 0xff}, 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(filepath.Join(dir, short.Path), short.Size-1); err != nil {
		t.Fatal(err)
	}
	lp := filepath.Join(dir, link.Path)
	os.Remove(lp)
	if err := os.Symlink("/etc/passwd", lp); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		b    BlobRecord
		want string
	}{{same, "contents changed"}, {short, "bytes, the snapshot recorded"}, {link, "not a regular file"}} {
		err := CheckFile(dir, c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.b.Path) {
			t.Errorf("%s: CheckFile = %v, want an error naming it with %q", c.b.Path, err, c.want)
		}
	}
}

func TestReadRecordRefuses(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for name, text := range map[string]string{
		"header":     "something else\n",
		"short sum":  recordHeader + "\nabc 1 x\n",
		"upper hex":  recordHeader + "\n" + strings.ToUpper(sum) + " 1 x\n",
		"size":       recordHeader + "\n" + sum + " -1 x\n",
		"size+":      recordHeader + "\n" + sum + " +1 x\n",
		"dotdot":     recordHeader + "\n" + sum + " 1 ../x\n",
		"absolute":   recordHeader + "\n" + sum + " 1 /etc/x\n",
		"duplicate":  recordHeader + "\n" + sum + " 1 x\n" + sum + " 2 x\n",
		"dup fileid": recordHeader + "\n" + sum + " 1 aa/" + strings.Repeat("a", 40) + "\n" + sum + " 1 bb/" + strings.Repeat("A", 40) + "\n",
		"empty":      "",
	} {
		if _, err := ParseRecord(strings.NewReader(text)); err == nil {
			t.Errorf("%s: accepted %q", name, text)
		}
	}
	// A symlinked record is refused, naming it.
	dir := t.TempDir()
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, RecordName)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRecord(dir); err == nil || !strings.Contains(err.Error(), RecordName) {
		t.Fatalf("symlinked record: %v", err)
	}
	if _, err := ReadRecord(t.TempDir()); !errors.Is(err, ErrNoRecord) {
		t.Fatalf("missing record: %v", err)
	}
}

// FuzzParseRecord: no panic, and whatever parses formats back to a record that parses
// to the same thing.
func FuzzParseRecord(f *testing.F) {
	sum := strings.Repeat("0f", 32)
	f.Add([]byte(recordHeader + "\n" + sum + " 12 Manifest.db\n" + sum + " 0 3d/" + strings.Repeat("3d", 20) + "\n"))
	f.Add([]byte(recordHeader + "\n" + sum + " 1 " + strconv.Quote("a\nb") + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseRecord(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		buf.WriteString(recordHeader + "\n")
		for _, b := range rec.All() {
			buf.WriteString(formatRecordLine(b) + "\n")
		}
		again, err := ParseRecord(&buf)
		if err != nil {
			t.Fatalf("formatted record does not parse: %v\n%q", err, buf.String())
		}
		if len(again.Blobs) != len(rec.Blobs) || len(again.Files) != len(rec.Files) {
			t.Fatalf("round trip changed the record")
		}
		for k, v := range rec.Blobs {
			if again.Blobs[k] != v {
				t.Fatalf("round trip changed %s", k)
			}
		}
		for k, v := range rec.Files {
			if again.Files[k] != v {
				t.Fatalf("round trip changed %s", k)
			}
		}
	})
}
