package backup

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// The damage tests: a generated backup, damaged in one way by the test (which knows
// from the generator's Truth, not from the code under test, which entry it damaged),
// must be reported with that check, naming that entry.

func verifyTruth(t *testing.T, truth *gen.Truth, vo VerifyOptions) *VerifyReport {
	t.Helper()
	rep, err := Verify(truth.Dir, Options{Password: password(truth.Password)}, vo)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// blobOf is where the generator wrote te's blob (backup-format.md), computed here.
func blobOf(truth *gen.Truth, te *gen.TruthEntry) string {
	id := te.ID().String()
	if truth.Format == gen.FormatMBDB {
		return filepath.Join(truth.Dir, id)
	}
	return filepath.Join(truth.Dir, id[:2], id)
}

// pick returns the first file of the truth for which ok holds.
func pick(t *testing.T, truth *gen.Truth, ok func(*gen.TruthEntry) bool) *gen.TruthEntry {
	t.Helper()
	for i := range truth.Entries {
		te := &truth.Entries[i]
		if te.Kind == manifest.KindFile && !te.Synthetic && !te.BlobMissing && ok(te) {
			return te
		}
	}
	t.Fatal("no entry to damage")
	return nil
}

// wantOnly asserts that the report names exactly the given problems (check and
// entry key, or check and file for backup-level ones), each once, and nothing else.
func wantOnly(t *testing.T, rep *VerifyReport, want ...string) {
	t.Helper()
	var got []string
	for _, p := range rep.Problems {
		where := p.File
		if p.FileID != "" {
			where = entryKey(p.Domain, p.Path)
			if p.FileID != manifest.ComputeFileID(p.Domain, p.Path).String() {
				t.Errorf("%s: fileID %s is not this entry's", p, p.FileID)
			}
		}
		got = append(got, string(p.Check)+" "+where)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s\nreport:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), problemLines(rep))
	}
	if rep.Sound() {
		t.Fatal("a damaged backup reported sound")
	}
}

func problemLines(rep *VerifyReport) string {
	var sb strings.Builder
	for _, p := range rep.Problems {
		sb.WriteString(p.String() + "\n")
	}
	return sb.String()
}

func want(c Check, te *gen.TruthEntry) string { return string(c) + " " + te.Key() }

func TestVerifySound(t *testing.T) {
	for _, format := range []gen.Format{gen.FormatDB, gen.FormatMBDB} {
		for _, enc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/encrypted=%v", format, enc), func(t *testing.T) {
				t.Parallel()
				truth := generate(t, gen.Options{Seed: 11, Format: format, Encrypted: enc, Entries: 400})
				for _, quick := range []bool{false, true} {
					rep := verifyTruth(t, truth, VerifyOptions{Quick: quick})
					if !rep.Sound() {
						t.Fatalf("quick=%v: a sound backup has problems:\n%s", quick, problemLines(rep))
					}
					files := 0
					var bytes int64
					for _, te := range truth.Entries {
						if te.Kind == manifest.KindFile {
							files++
							bytes += te.TrueSize
						}
					}
					if rep.Files != files {
						t.Errorf("quick=%v: %d files verified, the backup has %d", quick, rep.Files, files)
					}
					if !quick && (rep.Bytes != bytes || rep.Databases < 7 || rep.Digests == 0) {
						t.Errorf("read %d bytes (want %d), %d databases (want >= 7), %d digests", rep.Bytes, bytes, rep.Databases, rep.Digests)
					}
					if quick && rep.Bytes != 0 {
						t.Errorf("quick verify read %d bytes", rep.Bytes)
					}
				}
			})
		}
	}
}

func TestVerifyMissingBlob(t *testing.T) {
	for _, format := range []gen.Format{gen.FormatDB, gen.FormatMBDB} {
		truth := generate(t, gen.Options{Seed: 12, Format: format, Encrypted: format == gen.FormatMBDB})
		te := pick(t, truth, func(te *gen.TruthEntry) bool { return strings.HasSuffix(te.Path, ".JPG") })
		if err := os.Remove(blobOf(truth, te)); err != nil {
			t.Fatal(err)
		}
		rep := verifyTruth(t, truth, VerifyOptions{Quick: true}) // found without reading
		wantOnly(t, rep, want(CheckBlobMissing, te))
		wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), want(CheckBlobMissing, te))
	}
}

func TestVerifyTruncatedBlob(t *testing.T) {
	// Plain: the recorded SHA-1 catches it (MBDB records one for every file).
	truth := generate(t, gen.Options{Seed: 13, Format: gen.FormatMBDB})
	te := pick(t, truth, func(te *gen.TruthEntry) bool { return te.TrueSize > 1000 && strings.HasSuffix(te.Path, ".JPG") })
	if err := os.Truncate(blobOf(truth, te), te.TrueSize/2); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), want(CheckDigest, te))

	// Encrypted, cut at a block boundary: the new last block is not padding.
	truth = generate(t, gen.Options{Seed: 13, Encrypted: true})
	te = pick(t, truth, func(te *gen.TruthEntry) bool { return te.TrueSize > 1000 && te.Digest == nil })
	if err := os.Truncate(blobOf(truth, te), te.TrueSize/2/16*16); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), want(CheckPadding, te))
}

func TestVerifyBlobNotMultipleOf16(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 14, Encrypted: true})
	te := pick(t, truth, func(te *gen.TruthEntry) bool { return te.TrueSize > 100 })
	f, err := os.OpenFile(blobOf(truth, te), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("extra"))
	f.Close()
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{Quick: true}), want(CheckBlobSize, te))
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), want(CheckBlobSize, te))
}

func TestVerifyBadPadding(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 15, Encrypted: true})
	te := pick(t, truth, func(te *gen.TruthEntry) bool { return te.TrueSize > 32 && te.Digest == nil })
	// CBC: the last plaintext byte is the last byte of the block before, XORed in.
	// XORing it with the pad value (16 - len%16) makes the pad byte 0: never valid.
	path := blobOf(truth, te)
	blob, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pad := 16 - te.TrueSize%16
	blob[len(blob)-17] ^= byte(pad)
	if err := os.WriteFile(path, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), want(CheckPadding, te))
	if rep := verifyTruth(t, truth, VerifyOptions{Quick: true}); !rep.Sound() {
		t.Fatalf("--quick decrypted: %s", problemLines(rep))
	}
}

func TestVerifyWrongWrappedKey(t *testing.T) {
	// Manifest.mbdb is not encrypted as a whole, so its wrapped keys can be edited
	// in place: flip a byte of one.
	truth := generate(t, gen.Options{Seed: 16, Format: gen.FormatMBDB, Encrypted: true})
	te := pick(t, truth, func(te *gen.TruthEntry) bool { return te.TrueSize > 100 })
	b, err := Open(truth.Dir, Options{Password: password(truth.Password)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	i, _ := b.Index.Lookup(te.Domain, te.Path)
	wk := b.Index.Entry(i).WrappedKeyBytes()
	mbdb := filepath.Join(truth.Dir, "Manifest.mbdb")
	data, err := os.ReadFile(mbdb)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, wk)
	if at < 0 || len(wk) != 40 {
		t.Fatalf("wrapped key of %s not found in Manifest.mbdb", te.Key())
	}
	data[at+20] ^= 0x5a
	if err := os.WriteFile(mbdb, data, 0o644); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), want(CheckFileKey, te))
}

func TestVerifyDigestMismatch(t *testing.T) {
	for _, enc := range []bool{false, true} {
		truth := generate(t, gen.Options{Seed: 17, Encrypted: enc})
		te := pick(t, truth, func(te *gen.TruthEntry) bool {
			return te.Digest != nil && te.TrueSize > 64 && strings.HasSuffix(te.Path, ".plist")
		})
		// One byte of the first block: same size, valid padding, other contents.
		path := blobOf(truth, te)
		blob, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blob[3] ^= 0x01
		if err := os.WriteFile(path, blob, 0o644); err != nil {
			t.Fatal(err)
		}
		wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), want(CheckDigest, te))
	}
}

func TestVerifyCorruptDatabase(t *testing.T) {
	for _, enc := range []bool{false, true} {
		// Manifest.db backups record no digest for these caches: the database check
		// alone must find it.
		truth := generate(t, gen.Options{Seed: 18, Encrypted: enc})
		te := pick(t, truth, func(te *gen.TruthEntry) bool { return strings.HasSuffix(te.Path, "CellularUsage.db") })
		path := blobOf(truth, te)
		blob, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Garble the b-tree page header of page 2 (16 bytes; encrypted, the whole
		// block and one byte of the next decrypt to garbage).
		for k := 4096; k < 4096+16; k++ {
			blob[k] ^= 0xa5
		}
		if err := os.WriteFile(path, blob, 0o644); err != nil {
			t.Fatal(err)
		}
		wants := []string{want(CheckSQLite, te)}
		if te.Digest != nil {
			wants = []string{want(CheckDigest, te), want(CheckSQLite, te)}
		}
		wantOnly(t, verifyTruth(t, truth, VerifyOptions{}), wants...)
	}
}

func TestVerifyStatusNotFinished(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 19})
	data, err := plist.Marshal(map[string]any{"SnapshotState": "uploading", "BackupState": "new", "IsFullBackup": true}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(truth.Dir, "Status.plist"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := verifyTruth(t, truth, VerifyOptions{Quick: true})
	wantOnly(t, rep, "incomplete Status.plist")
	if !strings.Contains(rep.Problems[0].Detail, `"uploading"`) {
		t.Errorf("detail %q does not quote the state", rep.Problems[0].Detail)
	}
	// A Status.plist that does not parse is named too.
	if err := os.WriteFile(filepath.Join(truth.Dir, "Status.plist"), []byte("bplist00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{Quick: true}), "status-plist Status.plist")
}

func TestVerifyInfoPlistMissing(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 20, Format: gen.FormatMBDB})
	if err := os.Remove(filepath.Join(truth.Dir, "Info.plist")); err != nil {
		t.Fatal(err)
	}
	rep := verifyTruth(t, truth, VerifyOptions{})
	wantOnly(t, rep, "info-plist Info.plist")
	if rep.Problems[0].Detail != "missing" {
		t.Errorf("detail %q", rep.Problems[0].Detail)
	}
}

func TestVerifyBadSymlinkRow(t *testing.T) {
	const target = "/var/mobile/Media/Fonts" // HomeDomain Library/Fonts in the generator
	link := "HomeDomain/Library/Fonts"
	nul := []byte(target)
	nul[11] = 0 // "/var/mobile\x00Media/Fonts": same length, cannot be restored

	// Manifest.mbdb: the target is a length-prefixed string of the record.
	truth := generate(t, gen.Options{Seed: 21, Format: gen.FormatMBDB})
	patchFile(t, filepath.Join(truth.Dir, "Manifest.mbdb"), []byte(target), nul)
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{Quick: true}), string(CheckSymlink)+" "+link)

	// Manifest.db: the target is a string inside the row's MBFile property list.
	truth = generate(t, gen.Options{Seed: 21})
	db, err := sql.Open("sqlite", filepath.Join(truth.Dir, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rec []byte
	if err := db.QueryRow(`SELECT file FROM Files WHERE domain = 'HomeDomain' AND relativePath = 'Library/Fonts'`).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rec, []byte(target)) {
		t.Fatal("target not in the MBFile record")
	}
	rec = bytes.Replace(rec, []byte(target), nul, 1)
	if _, err := db.Exec(`UPDATE Files SET file = ? WHERE domain = 'HomeDomain' AND relativePath = 'Library/Fonts'`, rec); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{Quick: true}), string(CheckSymlink)+" "+link)
}

func sha1Of(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}

func patchFile(t *testing.T, path string, old, new []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(data, old) != 1 {
		t.Fatalf("%s: %q found %d times", path, old, bytes.Count(data, old))
	}
	if err := os.WriteFile(path, bytes.Replace(data, old, new, 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifySnapshotRecorded: a blob rewritten in place after the snapshot recorded
// it is named, even when the manifest records no digest to catch it; a quick verify
// catches a change of size.
func TestVerifySnapshotRecorded(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 22, Encrypted: true})
	te := pick(t, truth, func(te *gen.TruthEntry) bool { return te.Digest == nil && te.TrueSize > 100 })
	path := blobOf(truth, te)
	blob, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := &SnapshotRecord{Blobs: map[string]RecordedFile{}, Files: map[string]RecordedFile{}}
	rec.Blobs[te.ID().String()] = RecordedFile{Size: int64(len(blob)), SHA256: sha256.Sum256(blob)}
	plistPath := filepath.Join(truth.Dir, "Info.plist")
	info, err := os.ReadFile(plistPath)
	if err != nil {
		t.Fatal(err)
	}
	rec.Files["Info.plist"] = RecordedFile{Size: int64(len(info)), SHA256: sha256.Sum256(info)}
	if r := verifyTruth(t, truth, VerifyOptions{Snapshot: rec}); !r.Sound() {
		t.Fatalf("unchanged snapshot: %s", problemLines(r))
	}

	// A block in the middle: padding and size stay valid; only the record can tell.
	blob[len(blob)/2/16*16] ^= 1
	if err := os.WriteFile(path, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndex(info, []byte("</plist>"))
	if end < 1 || info[end-1] != '\n' {
		t.Fatalf("Info.plist does not end in a line with </plist>")
	}
	info[end-1] = ' ' // still the same XML, other bytes
	if err := os.WriteFile(plistPath, info, 0o644); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{Snapshot: rec}), "snapshot Info.plist", want(CheckSnapshot, te))
	if r := verifyTruth(t, truth, VerifyOptions{Snapshot: rec, Quick: true}); !r.Sound() {
		t.Fatalf("quick verify read contents: %s", problemLines(r))
	}
	if err := os.WriteFile(path, blob[:len(blob)-16], 0o644); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, verifyTruth(t, truth, VerifyOptions{Snapshot: rec, Quick: true}), want(CheckSnapshot, te))
}

// TestVerifyDigestOfBlobAccepted: what a Manifest.db Digest hashes is not documented;
// one equal to the SHA-1 of the encrypted blob's bytes is accepted as well as one of the
// contents, and one matching neither is reported. (The row's digest is edited in the
// loaded index: re-encrypting a Manifest.db by hand would test the test.)
func TestVerifyDigestOfBlobAccepted(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 24, Encrypted: true})
	te := pick(t, truth, func(te *gen.TruthEntry) bool { return te.Digest != nil && te.TrueSize > 64 })
	blob, err := os.ReadFile(blobOf(truth, te))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		digest []byte
		sound  bool
	}{{te.Digest, true}, {sha1Of(blob), true}, {sha1Of([]byte("other")), false}} {
		b := openTruth(t, truth)
		i, _ := b.Index.Lookup(te.Domain, te.Path)
		e := b.Index.Entry(i)
		e.SetExtra(e.Target(), c.digest, e.XAttrs())
		rep := &VerifyReport{}
		probs := b.verifyEntries(rep, VerifyOptions{})
		if got := len(probs) == 0; got != c.sound {
			t.Errorf("digest %x: sound %v, want %v: %v", c.digest, got, c.sound, probs)
		}
		if !c.sound && (len(probs) != 1 || probs[0].Check != CheckDigest || probs[0].Path != te.Path) {
			t.Errorf("want one digest problem for %s, got %v", te.Key(), probs)
		}
	}
}

// TestVerifyManifestCut: a Manifest.db cut in half is a finding (the backup would not
// restore), named by its file, not a failure to run.
func TestVerifyManifestCut(t *testing.T) {
	for _, enc := range []bool{false, true} {
		truth := generate(t, gen.Options{Seed: 25, Encrypted: enc, Entries: 2000})
		db := filepath.Join(truth.Dir, "Manifest.db")
		st, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(db, st.Size()/2/4096*4096); err != nil {
			t.Fatal(err)
		}
		wantOnly(t, verifyTruth(t, truth, VerifyOptions{Quick: true}), "manifest Manifest.db")
	}
}

// TestVerifyManifestIndexDamaged: a damaged index page of a plain Manifest.db, which
// loading the Files table does not read, is found by the manifest's quick_check.
func TestVerifyManifestIndexDamaged(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 26})
	path := filepath.Join(truth.Dir, "Manifest.db")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var root int64
	err = db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'FilesFlagsIdx'`).Scan(&root)
	db.Close()
	if err != nil {
		t.Fatalf("the generator's Manifest.db has no FilesFlagsIdx: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := (root - 1) * 4096 // page_size 4096
	for k := at; k < at+8; k++ {
		data[k] ^= 0xa5
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := verifyTruth(t, truth, VerifyOptions{})
	wantOnly(t, rep, "manifest Manifest.db")
	if !strings.Contains(rep.Problems[0].Detail, "quick_check") {
		t.Fatalf("not found by quick_check: %s", rep.Problems[0])
	}
}
