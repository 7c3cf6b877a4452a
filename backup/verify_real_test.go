package backup

import (
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"iosbackup/manifest"
)

// TestVerifyMVTSample: the sample holds 10 blobs for 1,089 file rows. Every row without
// its blob must be named, found here by asking sqlite directly which fileIDs have no
// file; Manifest.plist and Status.plist are absent and must be said so.
func TestVerifyMVTSample(t *testing.T) {
	dir := filepath.Join(samples, "ios14-mvt")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "Manifest.db")+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT fileID, domain, relativePath FROM Files WHERE flags = 1`)
	if err != nil {
		t.Fatal(err)
	}
	var wantMissing []string
	present := map[string]bool{}
	for rows.Next() {
		var id, domain, rel string
		if err := rows.Scan(&id, &domain, &rel); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, id[:2], id)); err == nil {
			present[domain+"/"+rel] = true
			continue
		}
		wantMissing = append(wantMissing, domain+"/"+rel)
	}
	rows.Close()
	if len(wantMissing) < 1000 {
		t.Fatalf("the sample lost its point: only %d blobs missing", len(wantMissing))
	}

	rep, err := Verify(dir, Options{}, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var gotMissing []string
	seen := map[Check]bool{}
	for _, p := range rep.Problems {
		switch {
		case p.Check == CheckBlobMissing:
			gotMissing = append(gotMissing, entryKey(p.Domain, p.Path))
			if !strings.Contains(p.String(), p.FileID) || p.FileID != manifest.ComputeFileID(p.Domain, p.Path).String() {
				t.Errorf("line does not name the fileID: %s", p)
			}
		case p.File == "Manifest.plist" || p.File == "Status.plist":
			seen[p.Check] = p.Detail == "missing"
		case p.Check == CheckDigest || p.Check == CheckSQLite:
			// The README: the 10 blobs are stand-ins whose sizes do not match the
			// manifest, so their recorded digests cannot match either.
			if !present[entryKey(p.Domain, p.Path)] {
				t.Errorf("%s reported on a row without a blob", p)
			}
		default:
			t.Errorf("unexpected: %s", p)
		}
	}
	sort.Strings(wantMissing)
	sort.Strings(gotMissing)
	if strings.Join(gotMissing, "\n") != strings.Join(wantMissing, "\n") {
		t.Errorf("%d missing blobs reported, %d rows lack one", len(gotMissing), len(wantMissing))
	}
	if !seen[CheckManifestPlist] || !seen[CheckStatusPlist] {
		t.Errorf("absent Manifest.plist / Status.plist not reported as missing: %v", seen)
	}
}

// TestVerifyEncryptedSample: the one file decrypts with valid padding to its 9 bytes;
// the sample's Status.plist is an empty dict (rebuilt from pyiosbackup's test values,
// which carry no SnapshotState), so verify says it does not say finished, and only that.
func TestVerifyEncryptedSample(t *testing.T) {
	dir := filepath.Join(samples, "encrypted-synthetic-pw0000")
	rep, err := Verify(dir, Options{Key: encryptedSampleKEK(t)}, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantOnly(t, rep, "incomplete Status.plist")
	if rep.Files != 1 || rep.Bytes != int64(len("Test data")) || !rep.Encrypted {
		t.Fatalf("files %d, bytes %d, encrypted %v", rep.Files, rep.Bytes, rep.Encrypted)
	}
}
