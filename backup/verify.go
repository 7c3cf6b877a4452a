package backup

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"iosbackup/decrypt"
	"iosbackup/manifest"
)

// Check names what a Problem failed: stable words that scripts and tests match.
type Check string

const (
	CheckInfoPlist     Check = "info-plist"     // Info.plist missing or unparsable
	CheckStatusPlist   Check = "status-plist"   // Status.plist missing or unparsable
	CheckManifestPlist Check = "manifest-plist" // Manifest.plist missing or unparsable
	CheckIncomplete    Check = "incomplete"     // Status.plist says the backup did not finish
	CheckManifest      Check = "manifest"       // the manifest cannot be read, or rows were dropped
	CheckBlobMissing   Check = "blob-missing"   // a file row has no blob
	CheckBlobRead      Check = "blob-read"      // the blob cannot be read to its end
	CheckBlobSize      Check = "blob-size"      // an encrypted blob is not a multiple of 16
	CheckFileKey       Check = "file-key"       // the wrapped key does not unwrap
	CheckPadding       Check = "padding"        // the blob decrypts without valid PKCS#7 padding
	CheckDigest        Check = "digest"         // the contents do not match the recorded SHA-1
	CheckSQLite        Check = "sqlite"         // a database inside fails PRAGMA quick_check
	CheckSymlink       Check = "symlink"        // a symlink row without a usable target
	CheckDirectory     Check = "directory"      // a directory row carrying file data
	CheckSnapshot      Check = "snapshot"       // a snapshot blob differs from what was recorded
)

// Problem is one finding of Verify. Entry-level problems name the row's domain, path and
// fileID; backup-level ones (a plist, the manifest) name the file in File instead.
type Problem struct {
	Check  Check
	Domain string
	Path   string
	FileID string
	File   string // a backup-level file, e.g. "Status.plist"
	Detail string
}

// String is the problem's one line: "HomeDomain/Library/SMS/sms.db (fileID 3d0d...):
// digest: ...", or "Status.plist: incomplete: ...".
func (p Problem) String() string {
	if p.FileID == "" {
		return fmt.Sprintf("%s: %s: %s", p.File, p.Check, p.Detail)
	}
	return fmt.Sprintf("%s (fileID %s): %s: %s", entryKey(p.Domain, p.Path), p.FileID, p.Check, p.Detail)
}

func entryKey(domain, path string) string {
	if path == "" {
		return domain
	}
	return domain + "/" + path
}

// VerifyProgress follows a verification by bytes of blobs read. Add is called from
// several goroutines at once.
type VerifyProgress interface {
	Start(totalBytes int64)
	Add(n int64)
}

// VerifyOptions say how deep to look.
type VerifyOptions struct {
	// Quick checks structure only: plists, manifest, blob presence and sizes, rows.
	// Nothing is decrypted or read beyond a stat.
	Quick bool
	// Workers read blobs in parallel (0: a default that keeps a disk busy).
	Workers int
	// Progress, when set, is told the bytes to read and the bytes read.
	Progress VerifyProgress
	// Snapshot, when set, is what a snapshot recorded of its files when it was taken
	// (history's record). Verify then checks that each still is so: a blob shared with
	// a later backup through a hard link and rewritten in place is named.
	Snapshot *SnapshotRecord
}

// RecordedFile is what a snapshot recorded of one of its files as it lay on disk
// (the ciphertext, for an encrypted backup): its size and SHA-256.
type RecordedFile struct {
	Size   int64
	SHA256 [32]byte
}

// SnapshotRecord is what a snapshot recorded of all its files.
type SnapshotRecord struct {
	Blobs map[string]RecordedFile // by lowercase file ID
	Files map[string]RecordedFile // the others (Manifest.db, the plists), by "/"-separated path
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Dir       string
	Format    string
	Encrypted bool
	Quick     bool
	Files     int
	Dirs      int
	Symlinks  int
	Databases int   // SQLite files quick_check'ed
	Digests   int   // contents compared with a recorded SHA-1
	Bytes     int64 // blob bytes read
	Elapsed   time.Duration
	Problems  []Problem
}

// Sound reports whether nothing was found.
func (r *VerifyReport) Sound() bool { return len(r.Problems) == 0 }

// Verify answers "would this backup restore?": see the Check constants for what is
// looked at. A damaged backup is a report with problems, not an error; the error is
// for trouble running: the folder is no backup, it cannot be unlocked.
func Verify(dir string, opt Options, vo VerifyOptions) (*VerifyReport, error) {
	start := time.Now()
	rep := &VerifyReport{Dir: dir, Quick: vo.Quick}
	f, err := openFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	format := detectFormat(f)
	if format == 0 {
		return nil, fmt.Errorf("verify %s: %w", dir, ErrNotBackup)
	}
	rep.Problems = append(rep.Problems, checkPlists(f)...)

	b, err := Open(dir, opt)
	if err != nil {
		if errors.Is(err, ErrLocked) || errors.Is(err, decrypt.ErrWrongPassword) || errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		// The manifest itself is damaged: the backup would not restore.
		rep.Problems = append(rep.Problems, Problem{Check: CheckManifest, File: format.String(), Detail: err.Error()})
		rep.Elapsed = time.Since(start)
		return rep, nil
	}
	defer b.Close() // its folder stays open until then, which Windows will not delete
	rep.Format, rep.Encrypted = b.Format.String(), b.Encrypted
	if n := b.Stats.Invalid; n > 0 {
		rep.Problems = append(rep.Problems, Problem{Check: CheckManifest, File: b.Format.String(),
			Detail: fmt.Sprintf("%d rows with unusable paths were dropped", n)})
	}
	if !vo.Quick {
		if err := b.checkManifestDB(); err != nil {
			rep.Problems = append(rep.Problems, Problem{Check: CheckManifest, File: "Manifest.db", Detail: err.Error()})
		}
	}
	rep.Problems = append(rep.Problems, b.verifyEntries(rep, vo)...)
	if vo.Snapshot != nil {
		rep.Problems = append(rep.Problems, checkRecordedFiles(f, vo.Snapshot.Files, vo.Quick)...)
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		pi, pj := rep.Problems[i], rep.Problems[j]
		if (pi.FileID == "") != (pj.FileID == "") {
			return pi.FileID == "" // backup-level problems first
		}
		if ki, kj := entryKey(pi.Domain, pi.Path), entryKey(pj.Domain, pj.Path); ki != kj {
			return ki < kj
		}
		return pi.Check < pj.Check
	})
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// checkPlists checks that Info, Manifest and Status plists are there and parse with the
// guarded parsers, and that Status says the backup completed.
func checkPlists(f *folder) []Problem {
	var out []Problem
	add := func(c Check, file string, err error) {
		detail := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			detail = "missing"
		}
		out = append(out, Problem{Check: c, File: file, Detail: detail})
	}
	if _, err := readInfo(f); err != nil {
		add(CheckInfoPlist, "Info.plist", err)
	}
	if _, err := readManifestPlist(f); err != nil {
		add(CheckManifestPlist, "Manifest.plist", err)
	}
	st, err := readStatus(f)
	switch {
	case err != nil:
		add(CheckStatusPlist, "Status.plist", err)
	case !st.Complete():
		out = append(out, Problem{Check: CheckIncomplete, File: "Status.plist",
			Detail: fmt.Sprintf("SnapshotState is %q, not %q: the backup did not finish", st.SnapshotState, manifest.SnapshotFinished)})
	}
	return out
}

// verifyEntries checks every row: directories and symlinks here, files by a pool of
// workers that read their blobs in parallel (one file per worker at a time, so a
// folder of small files keeps several reads in flight and a big file streams).
func (b *Backup) verifyEntries(rep *VerifyReport, vo VerifyOptions) []Problem {
	var (
		mu    sync.Mutex
		probs []Problem
	)
	report := func(p Problem) {
		mu.Lock()
		probs = append(probs, p)
		mu.Unlock()
	}
	var files []*manifest.Entry
	var total int64
	for i := 0; i < b.Index.Len(); i++ {
		e := b.Index.Entry(int32(i))
		if e.Synthetic {
			continue
		}
		switch e.Kind {
		case manifest.KindDir:
			rep.Dirs++
			if p, bad := checkDirRow(e); bad {
				report(p)
			}
		case manifest.KindSymlink:
			rep.Symlinks++
			if p, bad := checkSymlinkRow(e); bad {
				report(p)
			}
		case manifest.KindFile:
			rep.Files++
			files = append(files, e)
			total += max(e.Size, 0)
		}
	}
	if vo.Progress != nil {
		vo.Progress.Start(total)
	}
	workers := vo.Workers
	if workers <= 0 {
		// Reads, not the CPU, are the limit: keep more requests in flight than cores.
		workers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	jobs := make(chan *manifest.Entry, 2*workers)
	var wg sync.WaitGroup
	var statsMu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := fileVerifier{b: b, vo: vo, report: report, buf: make([]byte, verifyChunk)}
			for e := range jobs {
				v.verify(e)
			}
			statsMu.Lock()
			rep.Bytes += v.bytes
			rep.Databases += v.databases
			rep.Digests += v.digests
			statsMu.Unlock()
		}()
	}
	for _, e := range files {
		jobs <- e
	}
	close(jobs)
	wg.Wait()
	return probs
}

// maxSymlinkTarget is PATH_MAX on iOS: a longer target cannot be restored.
const maxSymlinkTarget = 1024

func entryProblem(e *manifest.Entry, c Check, format string, a ...any) Problem {
	return Problem{Check: c, Domain: e.Domain, Path: e.Path, FileID: e.ID.String(), Detail: fmt.Sprintf(format, a...)}
}

// checkSymlinkRow: a symlink restores only with a target, one without NUL bytes and
// within PATH_MAX.
func checkSymlinkRow(e *manifest.Entry) (Problem, bool) {
	t := e.Target()
	switch {
	case t == "":
		return entryProblem(e, CheckSymlink, "symlink row has no target"), true
	case len(t) > maxSymlinkTarget:
		return entryProblem(e, CheckSymlink, "symlink target is %d bytes, more than %d", len(t), maxSymlinkTarget), true
	case containsNUL(t):
		return entryProblem(e, CheckSymlink, "symlink target %q holds a NUL byte", t), true
	}
	return Problem{}, false
}

// checkDirRow: a directory has no target and no file key.
func checkDirRow(e *manifest.Entry) (Problem, bool) {
	switch {
	case e.Target() != "":
		return entryProblem(e, CheckDirectory, "directory row has a symlink target %q", e.Target()), true
	case e.WrappedKey != nil:
		return entryProblem(e, CheckDirectory, "directory row carries a file key"), true
	}
	return Problem{}, false
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// checkRecordedFiles checks the snapshot's files that are not blobs (Manifest.db, the
// plists) against the record: sizes only when quick.
func checkRecordedFiles(dir *folder, files map[string]RecordedFile, quick bool) []Problem {
	var out []Problem
	for _, name := range slices.Sorted(maps.Keys(files)) {
		rec := files[name]
		bad := func(format string, a ...any) {
			out = append(out, Problem{Check: CheckSnapshot, File: name, Detail: fmt.Sprintf(format, a...)})
		}
		f, fi, err := dir.open(name) // confined: the record's names stay inside the folder
		if err != nil {
			bad("%v", err)
			continue
		}
		switch {
		case fi.Size() != rec.Size:
			bad("%d bytes, the snapshot recorded %d: it was changed after the snapshot was taken", fi.Size(), rec.Size)
		case !quick:
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				bad("read: %v", err)
				break
			}
			var sum [32]byte
			if h.Sum(sum[:0]); sum != rec.SHA256 {
				bad("SHA-256 %x, the snapshot recorded %x: it was changed after the snapshot was taken", sum, rec.SHA256)
			}
		}
		f.Close()
	}
	return out
}

// checkManifestDB runs PRAGMA quick_check on Manifest.db (decrypted on the fly): loading
// it reads the Files table only, and the device restores from all of it.
func (b *Backup) checkManifestDB() error {
	if b.Format != FormatDB {
		return nil
	}
	f, fi, err := b.dir.open("Manifest.db")
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.ReaderAt = f
	size := fi.Size()
	if b.manifestEncrypted() {
		key, err := b.manifestKey()
		if err != nil {
			return err
		}
		dr, err := openManifestDB(f, size, key)
		clear(key)
		if err != nil {
			return fmt.Errorf("decrypt: %w", err)
		}
		r, size = dr, dr.Size()
	}
	if err := quickCheck(r, size); err != nil {
		return fmt.Errorf("PRAGMA quick_check: %w", err)
	}
	return nil
}
