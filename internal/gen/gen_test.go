package gen

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image/jpeg"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"iosbackup/decrypt"
	"iosbackup/manifest"
)

// bigTestSize crosses the 1 MiB streaming chunk twice and ends mid-block.
const bigTestSize = 2<<20 + 12345

func TestGenerateDBPlain(t *testing.T) {
	truth := generate(t, Options{Seed: 7, Entries: 1500, BigFileSize: bigTestSize})
	checkTruthShape(t, truth, 1500)
	checkFolder(t, truth)
	checkPlists(t, truth)
	db := filepath.Join(truth.Dir, "Manifest.db")
	rows := checkManifestDB(t, truth, db, nil)
	if len(rows) != truth.Rows {
		t.Fatalf("Manifest.db has %d rows, truth %d", len(rows), truth.Rows)
	}
	checkBlobs(t, truth, nil)
	checkSMS(t, truth, filepath.Join(truth.Dir, blobRel(truth, homeDomain, smsPath)))
}

func TestGenerateDBEncrypted(t *testing.T) {
	const password = "correct horse ☃"
	truth := generate(t, fastKDF(Options{Seed: 8, Entries: 600, Encrypted: true, Password: password, BigFileSize: bigTestSize}))
	checkTruthShape(t, truth, 600)
	checkFolder(t, truth)
	m := checkPlists(t, truth)

	kb, err := unlockKeybag(t, m["BackupKeyBag"].([]byte), password)
	if err != nil {
		t.Fatalf("unlock keybag with the right password: %v", err)
	}
	if u32(kb.header["VERS"]) != 5 || kb.header["DPSL"] == nil || u32(kb.header["DPIC"]) != 1000 || u32(kb.header["ITER"]) != 10 {
		t.Errorf("iOS 10.2+ keybag header: VERS %d DPSL %x DPIC %d ITER %d", u32(kb.header["VERS"]), kb.header["DPSL"], u32(kb.header["DPIC"]), u32(kb.header["ITER"]))
	}
	if !bytes.Equal(kb.kek, truth.DerivedKey) {
		t.Errorf("KEK from the password (stdlib PBKDF2) %x != truth.DerivedKey %x", kb.kek, truth.DerivedKey)
	}
	for c := uint32(1); c <= 11; c++ {
		if !bytes.Equal(kb.classKeys[c], truth.ClassKeys[c]) || len(kb.classKeys[c]) != 32 {
			t.Errorf("class %d key: unwrapped %x, truth %x", c, kb.classKeys[c], truth.ClassKeys[c])
		}
		if kb.wraps[c]&2 == 0 {
			t.Errorf("class %d WRAP %d lacks the passcode bit", c, kb.wraps[c])
		}
	}
	if _, err := unlockKeybag(t, m["BackupKeyBag"].([]byte), "wrong"); !errors.Is(err, decrypt.ErrUnwrapIntegrity) {
		t.Errorf("wrong password: want an unwrap integrity failure, got %v", err)
	}

	// Manifest.db is encrypted as a whole with the class-4 ManifestKey.
	mk := m["ManifestKey"].([]byte)
	if len(mk) != 44 || binary.LittleEndian.Uint32(mk) != 4 {
		t.Fatalf("ManifestKey: %d bytes, class %d", len(mk), binary.LittleEndian.Uint32(mk[:4]))
	}
	key, err := decrypt.Unwrap(kb.classKeys[4], mk[4:])
	if err != nil {
		t.Fatalf("unwrap ManifestKey: %v", err)
	}
	enc, err := os.ReadFile(filepath.Join(truth.Dir, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(enc, []byte("SQLite format 3")) {
		t.Fatal("Manifest.db is plaintext in an encrypted backup")
	}
	plain, err := cbcDecrypt(key, enc)
	if err != nil {
		t.Fatalf("decrypt Manifest.db: %v", err)
	}
	db := filepath.Join(t.TempDir(), "Manifest.db")
	if err := os.WriteFile(db, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	fileKeys := checkManifestDB(t, truth, db, kb.classKeys)
	if len(fileKeys) != truth.Rows {
		t.Fatalf("Manifest.db has %d rows, truth %d", len(fileKeys), truth.Rows)
	}
	checkBlobs(t, truth, fileKeys)

	// sms.db decrypts to a database the sqlite3 CLI reads.
	e := truth.Lookup(homeDomain, smsPath)
	blob, err := os.ReadFile(filepath.Join(truth.Dir, blobRel(truth, homeDomain, smsPath)))
	if err != nil {
		t.Fatal(err)
	}
	sms, err := cbcDecrypt(fileKeys[e.Key()], blob)
	if err != nil {
		t.Fatal(err)
	}
	smsPathOnDisk := filepath.Join(t.TempDir(), "sms.db")
	if err := os.WriteFile(smsPathOnDisk, sms, 0o600); err != nil {
		t.Fatal(err)
	}
	checkSMS(t, truth, smsPathOnDisk)
}

func TestGenerateMBDB(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run("encrypted="+strconv.FormatBool(encrypted), func(t *testing.T) {
			opt := fastKDF(Options{Seed: 9, Format: FormatMBDB, Entries: 700, BigFileSize: bigTestSize})
			if encrypted {
				opt.Encrypted, opt.Password = true, "hunter2"
			}
			truth := generate(t, opt)
			checkTruthShape(t, truth, 700)
			checkFolder(t, truth)
			m := checkPlists(t, truth)
			var classKeys map[uint32][]byte
			if encrypted {
				kb, err := unlockKeybag(t, m["BackupKeyBag"].([]byte), "hunter2")
				if err != nil {
					t.Fatalf("unlock: %v", err)
				}
				if u32(kb.header["VERS"]) != 3 || kb.header["DPSL"] != nil || kb.header["DPIC"] != nil {
					t.Errorf("pre-10.2 keybag: VERS %d, DPSL %x, DPIC %x", u32(kb.header["VERS"]), kb.header["DPSL"], kb.header["DPIC"])
				}
				if !bytes.Equal(kb.kek, truth.DerivedKey) {
					t.Errorf("KEK mismatch")
				}
				classKeys = kb.classKeys
			}
			if _, ok := m["ManifestKey"]; ok {
				t.Error("an iOS 5-9 backup has no ManifestKey")
			}
			raw, err := os.ReadFile(filepath.Join(truth.Dir, "Manifest.mbdb"))
			if err != nil {
				t.Fatal(err)
			}
			recs := parseMBDB(t, raw) // the header check doubles as "not encrypted"
			if len(recs) != truth.Rows {
				t.Fatalf("Manifest.mbdb has %d records, truth %d rows", len(recs), truth.Rows)
			}
			fileKeys := map[string][]byte{}
			for _, r := range recs {
				e := truth.Lookup(r.domain, r.path)
				if e == nil || e.Synthetic {
					t.Fatalf("record %s/%s: not a row of the truth", r.domain, r.path)
				}
				want := mbdbRec{
					domain: e.Domain, path: e.Path, mode: uint16(e.Mode), inode: e.Inode, uid: e.UID, gid: e.GID,
					mtime: uint32(e.MTime), ctime: uint32(e.CTime), birth: uint32(e.Birth),
					size: uint64(e.RecordedSize), class: uint8(e.ProtectionClass), props: e.XAttrs,
					targetNull: e.Kind != manifest.KindSymlink, target: e.Target,
					digestNull: e.Kind != manifest.KindFile, keyNull: e.Kind != manifest.KindFile || !encrypted,
				}
				got := r
				got.digest, got.key = "", ""
				if !mbdbEqual(got, want) {
					t.Errorf("record %s:\n got %+v\nwant %+v", e.Key(), got, want)
					continue
				}
				if e.Kind == manifest.KindFile {
					sum := sha1.Sum(contentBytes(t, e))
					if r.digest != string(sum[:]) {
						t.Errorf("%s: DataHash %x, want SHA-1 of the contents %x", e.Key(), r.digest, sum)
					}
					if encrypted {
						fileKeys[e.Key()] = unwrapFileKey(t, e, []byte(r.key), classKeys)
					}
				}
			}
			if !encrypted {
				fileKeys = nil
			}
			checkBlobs(t, truth, fileKeys)
		})
	}
}

func mbdbEqual(a, b mbdbRec) bool {
	return a.domain == b.domain && a.path == b.path && a.target == b.target && a.digest == b.digest && a.key == b.key &&
		a.targetNull == b.targetNull && a.digestNull == b.digestNull && a.keyNull == b.keyNull &&
		a.mode == b.mode && a.inode == b.inode && a.uid == b.uid && a.gid == b.gid &&
		a.mtime == b.mtime && a.ctime == b.ctime && a.birth == b.birth && a.size == b.size && a.class == b.class &&
		maps.EqualFunc(a.props, b.props, bytes.Equal)
}

// TestDeterminism: the same options give byte-identical folders, Manifest.db included
// (SQLite writes the same pages for the same statements); another seed does not.
func TestDeterminism(t *testing.T) {
	for _, opt := range []Options{
		fastKDF(Options{Seed: 42, Entries: 800, Encrypted: true, Password: "pw", BigFileSize: 100_000}),
		{Seed: 42, Entries: 800},
		fastKDF(Options{Seed: 42, Format: FormatMBDB, Entries: 300, Encrypted: true, Password: "pw"}),
	} {
		a := treeHashes(t, generate(t, opt).Dir)
		b := treeHashes(t, generate(t, opt).Dir)
		if !maps.Equal(a, b) {
			for k := range a {
				if a[k] != b[k] {
					t.Errorf("format %v encrypted %v: %s differs between two runs", opt.Format, opt.Encrypted, k)
				}
			}
			t.Fatalf("two runs with the same options differ (%d vs %d files)", len(a), len(b))
		}
		opt.Seed++
		c := treeHashes(t, generate(t, opt).Dir)
		if c["Manifest.plist"] == a["Manifest.plist"] || c["Info.plist"] == a["Info.plist"] {
			t.Errorf("format %v: another seed gave the same plists", opt.Format)
		}
	}
}

func treeHashes(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRevision(t *testing.T) {
	base := Options{Seed: 5, Entries: 400}
	r0 := generate(t, base)
	base.Revision = 1
	r1 := generate(t, base)
	base.Revision = 2
	r2 := generate(t, base)

	for _, tr := range []*Truth{r1, r2} {
		checkTruthShape(t, tr, 400)
	}
	changed, added, removed := Diff(r0, r1)
	if !slices.Contains(changed, homeDomain+"/"+smsPath) || len(changed) < 5 {
		t.Errorf("changed %v: want sms.db and 4 more files", changed)
	}
	wantAdded := []string{
		"AppDomain-com.example.notes/Documents/Revision 1",
		"AppDomain-com.example.notes/Documents/Revision 1/Note.txt",
		"CameraRollDomain/Media/DCIM/100APPLE/IMG_9001.JPG",
		"HomeDomain/Library/Preferences/com.example.revision1.plist",
	}
	if !slices.Equal(added, wantAdded) {
		t.Errorf("added %v, want %v", added, wantAdded)
	}
	if len(removed) != 2 {
		t.Errorf("removed %v: want 2 files", removed)
	}
	for _, k := range removed {
		if slices.Contains(changed, k) {
			t.Errorf("%s both changed and removed", k)
		}
	}
	c2, a2, r2m := Diff(r1, r0)
	if !slices.Equal(c2, changed) || !slices.Equal(a2, removed) || !slices.Equal(r2m, added) {
		t.Errorf("Diff is not symmetric")
	}
	if c, a, r := Diff(r1, r1); len(c)+len(a)+len(r) != 0 {
		t.Errorf("Diff(r1, r1) = %v %v %v", c, a, r)
	}
	if c, _, _ := Diff(r1, r2); !slices.Contains(c, homeDomain+"/"+smsPath) {
		t.Errorf("revision 2 does not change sms.db relative to revision 1")
	}

	// Unchanged files keep identical blobs (what an incremental capture relies on);
	// changed ones do not; removed ones are gone from the manifest.
	for i := range r1.Entries {
		e := &r1.Entries[i]
		if e.Kind != manifest.KindFile {
			continue
		}
		old := r0.Lookup(e.Domain, e.Path)
		if old == nil {
			continue
		}
		a, errA := os.ReadFile(filepath.Join(r0.Dir, blobRel(r0, e.Domain, e.Path)))
		b, errB := os.ReadFile(filepath.Join(r1.Dir, blobRel(r1, e.Domain, e.Path)))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v %v", e.Key(), errA, errB)
		}
		if isChanged := slices.Contains(changed, e.Key()); bytes.Equal(a, b) == isChanged {
			t.Errorf("%s: changed=%v but blobs equal=%v", e.Key(), isChanged, bytes.Equal(a, b))
		}
	}
	rows := sqliteQuery(t, filepath.Join(r1.Dir, "Manifest.db"), "SELECT domain || '/' || relativePath FROM Files")
	for _, k := range removed {
		for _, r := range rows {
			if r[0] == k {
				t.Errorf("removed %s still has a row", k)
			}
		}
	}
	if len(r1.Messages) != len(r0.Messages)+3 || !reflect.DeepEqual(r1.Messages[:len(r0.Messages)], r0.Messages) {
		t.Errorf("revision 1 messages should be revision 0's plus 3 (got %d vs %d)", len(r1.Messages), len(r0.Messages))
	}
	if !r1.BackupDate.After(r0.BackupDate) {
		t.Errorf("revision 1 dated %v, not after %v", r1.BackupDate, r0.BackupDate)
	}
}

func TestOmitFillerBlobs(t *testing.T) {
	truth := generate(t, Options{Seed: 3, Entries: 500, OmitFillerBlobs: true})
	missing := 0
	for i := range truth.Entries {
		e := &truth.Entries[i]
		if e.Kind != manifest.KindFile {
			continue
		}
		_, err := os.Stat(filepath.Join(truth.Dir, blobRel(truth, e.Domain, e.Path)))
		if e.BlobMissing {
			missing++
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: BlobMissing but the blob exists (%v)", e.Key(), err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", e.Key(), err)
		}
	}
	if missing < 300 {
		t.Errorf("only %d filler blobs omitted", missing)
	}
	if n := len(sqliteQuery(t, filepath.Join(truth.Dir, "Manifest.db"), "SELECT fileID FROM Files")); n != truth.Rows {
		t.Errorf("%d rows, want %d", n, truth.Rows)
	}
}

func TestGenerateRejects(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		dir string
		opt Options
	}{
		"non-empty folder":       {full, Options{}},
		"encrypted, no password": {filepath.Join(t.TempDir(), "b"), Options{Encrypted: true}},
		"negative entries":       {filepath.Join(t.TempDir(), "b"), Options{Entries: -1}},
		"absurd rounds":          {filepath.Join(t.TempDir(), "b"), Options{SHA256Rounds: 1 << 40}},
		"unknown format":         {filepath.Join(t.TempDir(), "b"), Options{Format: 7}},
	} {
		if _, err := Generate(c.dir, c.opt); err == nil {
			t.Errorf("%s: Generate succeeded", name)
		}
	}
	// An existing empty folder is accepted.
	if _, err := Generate(t.TempDir(), Options{}); err != nil {
		t.Errorf("empty existing folder: %v", err)
	}
}

func TestEncryptCBCChunking(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	for _, n := range []int{0, 1, 15, 16, 17, 47, 48, 49, 1000} {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(i * 31)
		}
		// A 64-byte buffer forces many chunks: 48 bytes of data plus a pad block.
		var small, large bytes.Buffer
		if _, err := EncryptCBC(&small, bytes.NewReader(plain), key, make([]byte, 64)); err != nil {
			t.Fatal(err)
		}
		if _, err := EncryptCBC(&large, bytes.NewReader(plain), key, make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(small.Bytes(), large.Bytes()) {
			t.Errorf("%d bytes: chunked encryption differs from one-shot", n)
		}
		if want := (n/16 + 1) * 16; small.Len() != want {
			t.Errorf("%d bytes: ciphertext %d bytes, want %d", n, small.Len(), want)
		}
		got, err := cbcDecrypt(key, small.Bytes())
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%d bytes: round trip failed: %v", n, err)
		}
		buf := make([]byte, n+16)
		copy(buf, plain)
		inPlace, err := encryptCBCInPlace(buf, n, key)
		if err != nil || !bytes.Equal(inPlace, small.Bytes()) {
			t.Errorf("%d bytes: in-place encryption differs from streaming (%v)", n, err)
		}
	}
}

// BenchmarkGenerate100k measures a 100,000-row plain iOS 10+ backup.
func BenchmarkGenerate100k(b *testing.B) {
	for _, encrypted := range []bool{false, true} {
		b.Run("encrypted="+strconv.FormatBool(encrypted), func(b *testing.B) {
			for b.Loop() {
				opt := fastKDF(Options{Seed: 1, Entries: 100_000, Encrypted: encrypted, Password: "pw"})
				if _, err := Generate(filepath.Join(b.TempDir(), "backup"), opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMillionEntries is the scale the readers must handle: run it with IOSBACKUP_BIG=1.
// Filler blobs are omitted: a million blob files cost 4 GB of disk blocks and minutes
// of I/O on a small VM, and what this scale tests is the manifest. With
// IOSBACKUP_BIG=blobs every blob is written too.
func TestMillionEntries(t *testing.T) {
	mode := os.Getenv("IOSBACKUP_BIG")
	if mode != "1" && mode != "blobs" {
		t.Skip("set IOSBACKUP_BIG=1 (or =blobs) to generate a 1,000,000-entry backup")
	}
	start := time.Now()
	truth := generate(t, Options{Seed: 1, Entries: 1_000_000, OmitFillerBlobs: mode != "blobs"})
	t.Logf("1,000,000 rows, %d blob bytes, in %v", truth.BlobBytes, time.Since(start))
	rows := sqliteQuery(t, filepath.Join(truth.Dir, "Manifest.db"), "SELECT count(*), count(DISTINCT fileID) FROM Files")
	if rows[0][0] != strconv.Itoa(truth.Rows) || rows[0][1] != rows[0][0] || truth.Rows != 1_000_000 {
		t.Errorf("rows %v, truth %d", rows, truth.Rows)
	}
	checkTruthShape(t, truth, 1_000_000)
}

// --- checks shared by the tests ---

func blobRel(truth *Truth, domain, path string) string {
	id := sha1Hex(domain, path)
	if truth.Format == FormatMBDB {
		return id
	}
	return filepath.Join(id[:2], id)
}

// checkTruthShape checks what the Truth promises readers: parents before children,
// synthetic directories that something reveals, and the oddities the format allows.
func checkTruthShape(t *testing.T, truth *Truth, wantRows int) {
	t.Helper()
	if truth.Rows < wantRows || truth.Rows > wantRows+fillerDirEvery {
		t.Errorf("rows %d, asked for %d", truth.Rows, wantRows)
	}
	seen := map[string]*TruthEntry{}
	revealed := map[string]bool{}
	var nonSynthetic, symlinks, xattrs, empty, bigger, smaller int
	for i := range truth.Entries {
		e := &truth.Entries[i]
		if seen[e.Key()] != nil {
			t.Fatalf("%s listed twice", e.Key())
		}
		seen[e.Key()] = e
		if e.Path != "" {
			parent := entryKey(e.Domain, parentOf(e.Path))
			if p := seen[parent]; p == nil || p.Kind != manifest.KindDir {
				t.Fatalf("%s comes before (or without) its parent directory %s", e.Key(), parent)
			}
		} else if e.Synthetic || e.Kind != manifest.KindDir {
			t.Errorf("domain root %s must be a directory row", e.Domain)
		}
		if e.Synthetic {
			continue
		}
		nonSynthetic++
		for p := e.Path; p != ""; {
			p = parentOf(p)
			revealed[entryKey(e.Domain, p)] = true
		}
		wantType := map[manifest.Kind]uint32{manifest.KindFile: 0o100000, manifest.KindDir: 0o040000, manifest.KindSymlink: 0o120000}[e.Kind]
		if e.Mode&0o170000 != wantType {
			t.Errorf("%s: mode %o for a %v", e.Key(), e.Mode, e.Kind)
		}
		switch e.Kind {
		case manifest.KindSymlink:
			symlinks++
			if !strings.HasPrefix(e.Target, "/var/") {
				t.Errorf("%s: symlink target %q is not an absolute device path", e.Key(), e.Target)
			}
		case manifest.KindFile:
			if e.ProtectionClass < 1 || e.ProtectionClass > 4 {
				t.Errorf("%s: protection class %d", e.Key(), e.ProtectionClass)
			}
			if e.TrueSize == 0 {
				empty++
			}
			if e.RecordedSize > e.TrueSize {
				bigger++
			} else if e.RecordedSize < e.TrueSize {
				smaller++
			}
		}
		if e.XAttrs != nil {
			xattrs++
		}
		if e.Birth > e.MTime || e.MTime > e.CTime || e.CTime > truth.BackupDate.Unix() {
			t.Errorf("%s: times birth %d mtime %d ctime %d backup %d", e.Key(), e.Birth, e.MTime, e.CTime, truth.BackupDate.Unix())
		}
	}
	if nonSynthetic != truth.Rows {
		t.Errorf("Rows %d but %d non-synthetic entries", truth.Rows, nonSynthetic)
	}
	synthetic := 0
	for i := range truth.Entries {
		if e := &truth.Entries[i]; e.Synthetic {
			synthetic++
			if !revealed[e.Key()] {
				t.Errorf("synthetic %s has no descendant row: no reader could see it", e.Key())
			}
		}
	}
	if synthetic < 3 || symlinks < 3 || xattrs < 4 || empty < 2 || bigger < 2 || smaller < 1 {
		t.Errorf("missing oddities: %d synthetic dirs, %d symlinks, %d with xattrs, %d empty, %d recorded bigger, %d smaller",
			synthetic, symlinks, xattrs, empty, bigger, smaller)
	}
}

func checkFolder(t *testing.T, truth *Truth) {
	t.Helper()
	want := []string{"Info.plist", "Manifest.plist", "Status.plist"}
	absent := []string{plaintextManifestName}
	if truth.Format == FormatDB {
		want = append(want, "Manifest.db")
		absent = append(absent, "Manifest.mbdb", "Manifest.db-wal", "Manifest.db-journal")
	} else {
		want = append(want, "Manifest.mbdb")
		absent = append(absent, "Manifest.db")
	}
	for _, n := range want {
		if _, err := os.Stat(filepath.Join(truth.Dir, n)); err != nil {
			t.Errorf("missing %s: %v", n, err)
		}
	}
	for _, n := range absent {
		if _, err := os.Stat(filepath.Join(truth.Dir, n)); err == nil {
			t.Errorf("unexpected %s", n)
		}
	}
}

// checkPlists checks the three property lists and returns Manifest.plist.
func checkPlists(t *testing.T, truth *Truth) map[string]any {
	t.Helper()
	info := readPlist(t, filepath.Join(truth.Dir, "Info.plist"))
	if raw, _ := os.ReadFile(filepath.Join(truth.Dir, "Info.plist")); !bytes.HasPrefix(raw, []byte("<?xml")) {
		t.Error("Info.plist is not XML")
	}
	for k, v := range map[string]string{
		"Device Name": truth.DeviceName, "Product Type": truth.ProductType, "Product Version": truth.ProductVersion,
		"Serial Number": truth.SerialNumber, "Target Identifier": truth.UDID, "Build Version": truth.BuildVersion,
	} {
		if info[k] != v {
			t.Errorf("Info.plist %s = %v, want %q", k, info[k], v)
		}
	}
	apps, _ := info["Applications"].(map[string]any)
	for _, a := range truth.Apps {
		entry, _ := apps[a.BundleID].(map[string]any)
		raw, _ := entry["iTunesMetadata"].([]byte)
		var meta map[string]any
		if _, err := plist.Unmarshal(raw, &meta); err != nil {
			t.Errorf("%s iTunesMetadata: %v", a.BundleID, err)
			continue
		}
		if meta["itemName"] != a.DisplayName || meta["bundleShortVersionString"] != a.Version || meta["artistName"] != a.Vendor {
			t.Errorf("%s iTunesMetadata %v", a.BundleID, meta)
		}
	}
	if !slices.ContainsFunc(truth.Apps, func(a App) bool { return a.DisplayName == "Notes Pro" }) {
		t.Error("app Notes Pro missing")
	}

	status := readPlist(t, filepath.Join(truth.Dir, "Status.plist"))
	if status["SnapshotState"] != "finished" || status["BackupState"] != "new" || status["IsFullBackup"] != (truth.Revision == 0) {
		t.Errorf("Status.plist %v", status)
	}

	m := readPlist(t, filepath.Join(truth.Dir, "Manifest.plist"))
	if m["IsEncrypted"] != truth.Encrypted {
		t.Errorf("Manifest.plist IsEncrypted %v", m["IsEncrypted"])
	}
	if _, ok := m["BackupKeyBag"].([]byte); !ok {
		t.Error("Manifest.plist has no BackupKeyBag (hosts write one even unencrypted)")
	}
	if _, ok := m["ManifestKey"]; ok != (truth.Encrypted && truth.Format == FormatDB) {
		t.Errorf("ManifestKey present = %v", ok)
	}
	lock, _ := m["Lockdown"].(map[string]any)
	if lock["UniqueDeviceID"] != truth.UDID || lock["ProductVersion"] != truth.ProductVersion {
		t.Errorf("Lockdown %v", lock)
	}
	mapps, _ := m["Applications"].(map[string]any)
	for _, a := range truth.Apps {
		entry, _ := mapps[a.BundleID].(map[string]any)
		path, _ := entry["Path"].(string)
		if entry["CFBundleIdentifier"] != a.BundleID || !strings.HasPrefix(path, "/var/containers/Bundle/Application/") ||
			!strings.HasSuffix(path, "/"+a.AppName+".app") || entry["ContainerContentClass"] != "Data/Application" {
			t.Errorf("Manifest.plist Applications[%s] = %v", a.BundleID, entry)
		}
	}
	if d, ok := m["Date"].(time.Time); !ok || !d.Equal(truth.BackupDate) {
		t.Errorf("Manifest.plist Date %v, want %v", m["Date"], truth.BackupDate)
	}
	return m
}

// checkManifestDB reads every row of a (plaintext) Manifest.db with the sqlite3 CLI
// and checks it against the truth. With classKeys, it unwraps each file key and
// returns them by entry key; otherwise it returns the set of rows seen.
func checkManifestDB(t *testing.T, truth *Truth, db string, classKeys map[uint32][]byte) map[string][]byte {
	t.Helper()
	if schema := sqliteQuery(t, db, "SELECT sql FROM sqlite_master WHERE name = 'Files'"); len(schema) != 1 ||
		schema[0][0] != "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB)" {
		t.Errorf("Files schema %v", schema)
	}
	out := map[string][]byte{}
	for _, r := range sqliteQuery(t, db, "SELECT fileID, domain, relativePath, flags, hex(file) FROM Files") {
		id, domain, path := r[0], r[1], r[2]
		if id != sha1Hex(domain, path) {
			t.Errorf("%s/%s: fileID %s, want sha1(domain-path)", domain, path, id)
		}
		e := truth.Lookup(domain, path)
		if e == nil || e.Synthetic {
			t.Fatalf("row %s/%s is not a row of the truth", domain, path)
		}
		if _, dup := out[e.Key()]; dup {
			t.Fatalf("%s has two rows", e.Key())
		}
		out[e.Key()] = nil
		if want := map[manifest.Kind]string{manifest.KindFile: "1", manifest.KindDir: "2", manifest.KindSymlink: "4"}[e.Kind]; r[3] != want {
			t.Errorf("%s: flags %s, want %s", e.Key(), r[3], want)
		}
		blob, err := hex.DecodeString(r[4])
		if err != nil {
			t.Fatal(err)
		}
		f := decodeMBFile(t, blob)
		if f.ref(t, "RelativePath") != e.Path {
			t.Errorf("%s: RelativePath %v", e.Key(), f.ref(t, "RelativePath"))
		}
		for name, want := range map[string]int64{
			"Mode": int64(e.Mode), "Size": e.RecordedSize, "UserID": int64(e.UID), "GroupID": int64(e.GID),
			"InodeNumber": int64(e.Inode), "Birth": e.Birth, "LastModified": e.MTime, "LastStatusChange": e.CTime,
			"Flags": 0, "ProtectionClass": int64(e.ProtectionClass),
		} {
			if got := f.int(name); got != want {
				t.Errorf("%s: MBFile %s = %d, want %d", e.Key(), name, got, want)
			}
		}
		if e.Kind == manifest.KindSymlink != f.has("Target") || (f.has("Target") && f.ref(t, "Target") != e.Target) {
			t.Errorf("%s: Target %v, want %q", e.Key(), f.fields["Target"], e.Target)
		}
		if f.has("ExtendedAttributes") {
			var x map[string][]byte
			if _, err := plist.Unmarshal(f.ref(t, "ExtendedAttributes").([]byte), &x); err != nil || !maps.EqualFunc(x, e.XAttrs, bytes.Equal) {
				t.Errorf("%s: ExtendedAttributes %v (%v), want %v", e.Key(), x, err, e.XAttrs)
			}
		} else if e.XAttrs != nil {
			t.Errorf("%s: ExtendedAttributes missing", e.Key())
		}
		if f.has("Digest") {
			sum := sha1.Sum(contentBytes(t, e))
			if d, _ := f.ref(t, "Digest").([]byte); !bytes.Equal(d, sum[:]) {
				t.Errorf("%s: Digest %x, want %x", e.Key(), d, sum)
			}
		}
		if f.has("EncryptionKey") != (classKeys != nil && e.Kind == manifest.KindFile) {
			t.Errorf("%s: EncryptionKey present = %v", e.Key(), f.has("EncryptionKey"))
		}
		if f.has("EncryptionKey") {
			ek, _ := f.ref(t, "EncryptionKey").(map[string]any)
			nsdata, _ := ek["NS.data"].([]byte)
			cls, _ := ek["$class"].(plist.UID)
			if c, _ := f.objects[cls].(map[string]any); c["$classname"] != "NSMutableData" {
				t.Errorf("%s: EncryptionKey class %v", e.Key(), c)
			}
			out[e.Key()] = unwrapFileKey(t, e, nsdata, classKeys)
		}
	}
	return out
}

func unwrapFileKey(t *testing.T, e *TruthEntry, rec []byte, classKeys map[uint32][]byte) []byte {
	t.Helper()
	if len(rec) != 44 || binary.LittleEndian.Uint32(rec) != e.ProtectionClass {
		t.Fatalf("%s: EncryptionKey of %d bytes, class prefix %x (want %d)", e.Key(), len(rec), rec[:min(4, len(rec))], e.ProtectionClass)
	}
	key, err := decrypt.Unwrap(classKeys[e.ProtectionClass], rec[4:])
	if err != nil {
		t.Fatalf("%s: unwrap file key: %v", e.Key(), err)
	}
	return key
}

// checkBlobs compares every blob with the truth's contents, decrypting with fileKeys
// when given. Directories and symlinks must have no blob.
func checkBlobs(t *testing.T, truth *Truth, fileKeys map[string][]byte) {
	t.Helper()
	var sawBig bool
	for i := range truth.Entries {
		e := &truth.Entries[i]
		if e.Synthetic {
			continue
		}
		blob, err := os.ReadFile(filepath.Join(truth.Dir, blobRel(truth, e.Domain, e.Path)))
		if e.Kind != manifest.KindFile {
			if err == nil {
				t.Errorf("%s: a %v has a blob", e.Key(), e.Kind)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", e.Key(), err)
		}
		want := contentBytes(t, e)
		got := blob
		if fileKeys != nil {
			if len(blob) != (len(want)/16+1)*16 {
				t.Errorf("%s: encrypted blob %d bytes for %d of plaintext", e.Key(), len(blob), len(want))
			}
			if got, err = cbcDecrypt(fileKeys[e.Key()], blob); err != nil {
				t.Fatalf("%s: decrypt: %v", e.Key(), err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: blob contents differ from the truth (%d vs %d bytes)", e.Key(), len(got), len(want))
		}
		switch {
		case e.Path == bigFilePath:
			sawBig = true
			if e.TrueSize != bigTestSize || !bytes.HasPrefix(want, movHeader) {
				t.Errorf("big file: %d bytes", e.TrueSize)
			}
		case strings.HasSuffix(e.Path, ".JPG") && e.content.kind == contentLiteral:
			if _, err := jpeg.Decode(bytes.NewReader(want)); err != nil {
				t.Errorf("%s: not a JPEG: %v", e.Key(), err)
			}
		}
	}
	if !sawBig {
		t.Error("big file missing")
	}
}

// checkSMS queries a plaintext sms.db with the sqlite3 CLI, as the demo does.
func checkSMS(t *testing.T, truth *Truth, path string) {
	t.Helper()
	rows := sqliteQuery(t, path, "SELECT message.ROWID, ifnull(handle.id, ''), ifnull(message.text, ''), message.is_from_me, message.date FROM message LEFT JOIN handle ON handle.ROWID = message.handle_id ORDER BY message.ROWID")
	if len(rows) != len(truth.Messages) || len(rows) < 10 {
		t.Fatalf("sms.db has %d messages, truth %d", len(rows), len(truth.Messages))
	}
	for i, m := range truth.Messages {
		fromMe := "0"
		if m.FromMe {
			fromMe = "1"
		}
		want := []string{strconv.FormatInt(m.RowID, 10), m.Handle, m.Text, fromMe, strconv.FormatInt(m.Date, 10)}
		if !slices.Equal(rows[i], want) {
			t.Errorf("message %d: %v, want %v", i, rows[i], want)
		}
	}
}
