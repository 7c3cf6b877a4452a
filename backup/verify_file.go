package backup

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"iosbackup/decrypt"
	"iosbackup/manifest"
)

// verifyChunk is the size of one read of a blob: large enough that a cold sequential
// read runs at disk speed, small enough that many workers cost little memory.
const verifyChunk = 1 << 20

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// fileVerifier checks file rows one at a time; each worker has its own.
type fileVerifier struct {
	b      *Backup
	vo     VerifyOptions
	report func(Problem)
	buf    []byte

	bytes     int64
	databases int
	digests   int
}

func (v *fileVerifier) verify(e *manifest.Entry) {
	f, fi, path, err := v.b.openBlob(e)
	if err != nil {
		rel, _ := filepath.Rel(v.b.Dir, path)
		if errors.Is(err, ErrBlobMissing) {
			v.report(entryProblem(e, CheckBlobMissing, "blob %s is not in the backup", filepath.ToSlash(rel)))
		} else {
			v.report(entryProblem(e, CheckBlobRead, "%v", err))
		}
		return
	}
	// openBlob opened a regular file inside the folder (a symlink or a pipe in the
	// blob's place is an error above, naming it).
	defer f.Close()
	size := fi.Size()
	var raw io.ReaderAt = f
	if v.vo.Snapshot != nil {
		if rec, ok := v.vo.Snapshot.Blobs[e.ID.String()]; ok {
			h := &hashingReaderAt{r: f, h: sha256.New()}
			raw = h
			defer func() { v.checkRecorded(e, f, size, rec, h) }()
		}
	}
	encrypted := v.b.Encrypted && e.WrappedKey != nil
	// An empty file is stored as an empty blob by some writers, also when encrypted.
	emptyFile := size == 0 && e.Size == 0
	if encrypted && !emptyFile && (size == 0 || size%16 != 0) {
		v.report(entryProblem(e, CheckBlobSize, "encrypted blob is %d bytes, not a positive multiple of 16 (truncated?)", size))
		v.progress(size)
		return
	}
	if v.vo.Quick {
		v.progress(size)
		return
	}

	r := raw
	plainSize := size
	var blobSHA1 *hashingReaderAt
	if encrypted && !emptyFile && len(e.Digest()) == sha1.Size && v.b.Format == FormatDB {
		// What a Manifest.db row's Digest hashes is not documented (backup-format.md
		// says "SHA-1"; Manifest.mbdb's is of the contents): the blob's own bytes are
		// hashed as they go by too, and either match is accepted.
		blobSHA1 = &hashingReaderAt{r: raw, h: sha1.New()}
		raw = blobSHA1
	}
	if encrypted && !emptyFile {
		key, err := v.b.fileKey(e)
		if err != nil {
			v.report(entryProblem(e, CheckFileKey, "the wrapped key does not unwrap with the class %d key: %v", e.ProtectionClass, errors.Unwrap(err)))
			v.progress(size)
			return
		}
		dr, err := decrypt.NewReader(raw, size, key)
		clear(key)
		if err != nil {
			c := CheckBlobRead
			switch {
			case errors.Is(err, decrypt.ErrBadPadding):
				c = CheckPadding
			case errors.Is(err, decrypt.ErrNotBlockAligned):
				c = CheckBlobSize
			}
			v.report(entryProblem(e, c, "%v", err))
			v.progress(size)
			return
		}
		r, plainSize = dr, dr.Size()
	}
	v.readAll(e, r, plainSize, blobSHA1, size)
}

// readAll reads the plaintext once from start to end, hashing it when a digest is to
// be compared and keeping its first bytes to recognise a database.
//
// blobSHA1, when set, has hashed the blob's raw bytes (blobSize of them) on the way:
// a digest that matches them is accepted too.
func (v *fileVerifier) readAll(e *manifest.Entry, r io.ReaderAt, size int64, blobSHA1 *hashingReaderAt, blobSize int64) {
	digest := e.Digest()
	if len(digest) != sha1.Size {
		digest = nil
	}
	var h hash.Hash
	if digest != nil {
		h = sha1.New()
	}
	var head [16]byte
	for off := int64(0); off < size; {
		n := int(min(int64(len(v.buf)), size-off))
		got, err := r.ReadAt(v.buf[:n], off)
		if got < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			v.report(entryProblem(e, CheckBlobRead, "read at offset %d of %d: %v", off+int64(got), size, err))
			v.progress(int64(got))
			return
		}
		if off == 0 {
			copy(head[:], v.buf[:n])
		}
		if h != nil {
			h.Write(v.buf[:n])
		}
		off += int64(n)
		v.bytes += int64(n)
		v.progress(int64(n))
	}
	if h != nil {
		v.digests++
		sum := h.Sum(nil)
		blobMatches := blobSHA1 != nil && blobSHA1.complete(blobSize) == nil && bytes.Equal(blobSHA1.h.Sum(nil), digest)
		if !bytes.Equal(sum, digest) && !blobMatches {
			v.report(entryProblem(e, CheckDigest, "contents have SHA-1 %x, the manifest recorded %x", sum, digest))
		}
	}
	if size >= 512 && bytes.Equal(head[:], sqliteMagic) {
		v.databases++
		if err := quickCheck(r, size); err != nil {
			v.report(entryProblem(e, CheckSQLite, "PRAGMA quick_check: %v", err))
		}
	}
}

// checkRecorded compares the blob with what the snapshot recorded of it. The full
// verify hashed the blob's bytes as they went by, and reads what it did not reach (the
// last block, which the decrypting reader keeps from its padding check; all of it when
// a damaged blob stopped the verify early). A quick verify reads nothing: sizes only.
func (v *fileVerifier) checkRecorded(e *manifest.Entry, f *os.File, size int64, rec RecordedFile, h *hashingReaderAt) {
	if size != rec.Size {
		v.report(entryProblem(e, CheckSnapshot, "blob is %d bytes, the snapshot recorded %d: it was changed after the snapshot was taken", size, rec.Size))
		return
	}
	if v.vo.Quick {
		return
	}
	if err := h.complete(size); err != nil {
		v.report(entryProblem(e, CheckBlobRead, "%v", err))
		return
	}
	var sum [32]byte
	if h.h.Sum(sum[:0]); sum != rec.SHA256 {
		v.report(entryProblem(e, CheckSnapshot, "blob has SHA-256 %x, the snapshot recorded %x: it was changed after the snapshot was taken", sum, rec.SHA256))
	}
}

// hashingReaderAt hashes the bytes read through it as long as the reads run forward
// without a gap (overlaps are fine: the decrypting reader rereads the block before
// each chunk for its IV). next is how far the hash reaches.
type hashingReaderAt struct {
	r    io.ReaderAt
	h    hash.Hash
	mu   sync.Mutex
	next int64
}

func (x *hashingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := x.r.ReadAt(p, off)
	x.mu.Lock()
	if off <= x.next && off+int64(n) > x.next {
		x.h.Write(p[x.next-off : n])
		x.next = off + int64(n)
	}
	x.mu.Unlock()
	return n, err
}

// complete reads, through x, what its hash has not reached of the first size bytes.
func (x *hashingReaderAt) complete(size int64) error {
	x.mu.Lock()
	gap := size - x.next
	x.mu.Unlock()
	if gap <= 0 {
		return nil
	}
	buf := make([]byte, min(gap, 64<<10)) // usually the last block or two
	for {
		x.mu.Lock()
		next := x.next
		x.mu.Unlock()
		if next >= size {
			return nil
		}
		n := int(min(int64(len(buf)), size-next))
		if got, err := x.ReadAt(buf[:n], next); got < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read at offset %d of %d: %w", next+int64(got), size, err)
		}
	}
}

func (v *fileVerifier) progress(n int64) {
	if v.vo.Progress != nil && n > 0 {
		v.vo.Progress.Add(n)
	}
}

// quickCheck runs PRAGMA quick_check on the database read from r, through the
// read-only VFS: a decrypted database is never written anywhere.
func quickCheck(r io.ReaderAt, size int64) error {
	db, err := manifest.OpenSQLiteReader(r, size)
	if err != nil {
		return fmt.Errorf("cannot open: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.Query("PRAGMA quick_check(5)")
	if err != nil {
		return err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		msgs = append(msgs, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	if len(msgs) == 0 {
		return errors.New("no result")
	}
	return errors.New(strings.Join(msgs, "; "))
}
