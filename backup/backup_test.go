package backup

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"iosbackup/decrypt"
	"iosbackup/manifest"
)

var samples = filepath.Join("..", "..", "shared", "samples")

func password(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

// The sample's keybag asks for 10,000,000 SHA-256 rounds: derive its key once per run.
var (
	encOnce sync.Once
	encKEK  []byte
	encErr  error
)

func encryptedSampleKEK(t *testing.T) []byte {
	t.Helper()
	encOnce.Do(func() {
		b, err := Open(filepath.Join(samples, "encrypted-synthetic-pw0000"), Options{Password: password("0000")})
		if err != nil {
			encErr = err
			return
		}
		encKEK = b.KEK()
	})
	if encErr != nil {
		t.Fatal(encErr)
	}
	return encKEK
}

func TestEncryptedSampleReadsTestData(t *testing.T) {
	kek := encryptedSampleKEK(t)
	if len(kek) != 32 {
		t.Fatalf("KEK is %d bytes", len(kek))
	}
	b, err := Open(filepath.Join(samples, "encrypted-synthetic-pw0000"), Options{Key: kek})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Encrypted || b.Format != FormatDB {
		t.Fatalf("encrypted=%v format=%v", b.Encrypted, b.Format)
	}
	i, ok := b.Index.Lookup("MyTestDomain", "Media/Test.txt")
	if !ok {
		t.Fatalf("MyTestDomain/Media/Test.txt not found; domains %v", b.Index.Domains())
	}
	e := b.Index.Entry(i)
	f, err := b.OpenFile(e)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "Test data" {
		t.Fatalf("read %q, want %q", got, "Test data")
	}
	if n, err := b.FileSize(e); err != nil || n != 9 {
		t.Fatalf("FileSize = %d, %v; want 9", n, err)
	}
	// Synthesized parents: Media has no row of its own in that manifest, or has one;
	// either way the path must be a directory.
	if d, ok := b.Index.Lookup("MyTestDomain", "Media"); !ok || b.Index.Entry(d).Kind != manifest.KindDir {
		t.Fatal("Media is not a directory")
	}
}

func TestEncryptedSampleWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("10M-round KDF")
	}
	_, err := Open(filepath.Join(samples, "encrypted-synthetic-pw0000"), Options{Password: password("0001")})
	if !errors.Is(err, decrypt.ErrWrongPassword) {
		t.Fatalf("err = %v, want ErrWrongPassword", err)
	}
	if !strings.Contains(err.Error(), "encrypted-synthetic-pw0000") {
		t.Fatalf("error does not name the backup: %v", err)
	}
}

func TestEncryptedSampleLockedAndSavedKey(t *testing.T) {
	dir := filepath.Join(samples, "encrypted-synthetic-pw0000")
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("no password: err = %v, want ErrLocked", err)
	}
	kek := encryptedSampleKEK(t)
	var asked string
	b, err := Open(dir, Options{
		SavedKey: func(id string) []byte { asked = id; return kek },
		Password: func() ([]byte, error) { t.Fatal("password asked despite a saved key"); return nil, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close() // an open Backup keeps its folder open: Windows cannot delete it
	if asked == "" || asked != b.KeybagID() {
		t.Fatalf("saved key looked up as %q, keybag id %q", asked, b.KeybagID())
	}
	// A stale saved key falls through to the password, with a warning.
	var warned bool
	stale := bytes.Repeat([]byte{1}, 32)
	_, err = Open(dir, Options{
		SavedKey: func(string) []byte { return stale },
		Key:      nil,
		Password: func() ([]byte, error) { return nil, errors.New("no terminal") },
		Warn:     func(string) { warned = true },
	})
	if err == nil || !warned || !strings.Contains(err.Error(), "no terminal") {
		t.Fatalf("stale key: err=%v warned=%v", err, warned)
	}
	// A wrong explicit key is a wrong-password error that says it was the key.
	_, err = Open(dir, Options{Key: stale})
	if !errors.Is(err, decrypt.ErrWrongPassword) || !strings.Contains(err.Error(), "key") {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestMVTSample(t *testing.T) {
	dir := filepath.Join(samples, "ios14-mvt")
	var warnings []string
	b, err := Open(dir, Options{Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close() // an open Backup keeps its folder open: Windows cannot delete it
	if b.Encrypted {
		t.Fatal("no Manifest.plist must mean unencrypted")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "Manifest.plist") {
		t.Fatalf("want one warning about Manifest.plist, got %q", warnings)
	}
	if b.Stats.Rows != 3721 {
		t.Fatalf("rows = %d, want 3721", b.Stats.Rows)
	}
	if n := len(b.Index.Domains()); n != 562 {
		t.Fatalf("domains = %d, want 562", n)
	}
	if b.Info == nil || b.Info.ProductVersion != "14.3" {
		t.Fatalf("Info.plist: %+v", b.Info)
	}
	// Every blob present in the folder reads back byte for byte; every other file entry
	// fails with ErrBlobMissing.
	present := map[string][]byte{}
	blobs, _ := filepath.Glob(filepath.Join(dir, "??", "*"))
	for _, p := range blobs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		present[filepath.Base(p)] = data
	}
	var read, missing int
	for i := int32(0); i < int32(b.Index.Len()); i++ {
		e := b.Index.Entry(i)
		if e.Kind != manifest.KindFile {
			continue
		}
		want, ok := present[e.ID.String()]
		f, err := b.OpenFile(e)
		if !ok {
			if !errors.Is(err, ErrBlobMissing) {
				t.Fatalf("%s/%s: err = %v, want ErrBlobMissing", e.Domain, e.Path, err)
			}
			if !strings.Contains(err.Error(), e.Domain+"/"+e.Path) {
				t.Fatalf("missing-blob error does not name the file: %v", err)
			}
			missing++
			continue
		}
		if err != nil {
			t.Fatalf("%s/%s: %v", e.Domain, e.Path, err)
		}
		got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
		f.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s/%s: read %d bytes (%v), want %d", e.Domain, e.Path, len(got), err, len(want))
		}
		read++
	}
	// The sample holds one blob no row refers to; every referenced one must be read.
	referenced := 0
	for id := range present {
		for i := int32(0); i < int32(b.Index.Len()); i++ {
			if b.Index.Entry(i).ID.String() == id && b.Index.Entry(i).Kind == manifest.KindFile {
				referenced++
				break
			}
		}
	}
	if read != referenced || read == 0 {
		t.Fatalf("read %d blobs, manifest refers to %d present ones", read, referenced)
	}
	if missing == 0 {
		t.Fatal("expected missing blobs in this sample")
	}
}

func TestFileIDsAreSHA1OfDomainAndPath(t *testing.T) {
	b, err := Open(filepath.Join(samples, "ios14-mvt"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := int32(0); i < int32(b.Index.Len()); i++ {
		e := b.Index.Entry(i)
		sum := sha1.Sum([]byte(e.Domain + "-" + e.Path))
		if e.ID.String() != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s/%s: id %s", e.Domain, e.Path, e.ID)
		}
	}
}

func TestNotABackup(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNotBackup) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v", err)
	}
}
