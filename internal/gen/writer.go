package gen

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"iosbackup/decrypt"
	"iosbackup/manifest"
)

// chunkSize is the unit of streaming: big files never take more than this in memory
// per worker.
const chunkSize = 1 << 20

// batchSize rows are prepared by one worker, then handed to the manifest in order.
const batchSize = 256

// plaintextManifestName is where an encrypted backup's Manifest.db is built before it
// is encrypted into place; it is removed afterwards, also on failure.
const plaintextManifestName = "Manifest.db.plaintext-tmp"

// writer turns a planned Truth into files.
type writer struct {
	dir       string
	opt       Options
	t         *Truth
	kb        *keybag
	keySecret [32]byte // derives per-file keys; from the seed, so deterministic
	// manifestKey encrypts Manifest.db (FormatDB, encrypted); manifestKeyRecord is
	// its Manifest.plist form: uint32 LE class 4 + wrapped key.
	manifestKey, manifestKeyRecord []byte
}

// recordSink receives the manifest records in Truth order.
type recordSink interface {
	add(e *TruthEntry, rec []byte) error
	// finish completes the manifest; abort discards it after an error.
	finish() error
	abort()
}

func newWriter(dir string, opt Options, t *Truth) (*writer, error) {
	w := &writer{dir: dir, opt: opt, t: t}
	src := secretSource(opt.Seed)
	withDP := opt.Format == FormatDB
	kb, err := buildKeybag(src, opt.Encrypted, opt.Password, withDP, opt.SHA256Rounds, opt.SHA1Rounds)
	if err != nil {
		return nil, fmt.Errorf("gen: keybag: %w", err)
	}
	w.kb = kb
	src.Read(w.keySecret[:])
	if opt.Encrypted {
		t.DerivedKey = kb.kek
		t.ClassKeys = kb.classKeys
		t.SHA1Rounds = opt.SHA1Rounds
		if withDP {
			t.SHA256Rounds = opt.SHA256Rounds
			// iOS 10.2+ encrypts Manifest.db as a whole, with a class-4 key.
			w.manifestKey = randomBytes(src, 32)
			wrapped, err := decrypt.Wrap(kb.classKeys[4], w.manifestKey)
			if err != nil {
				return nil, fmt.Errorf("gen: wrap manifest key: %w", err)
			}
			w.manifestKeyRecord = binary.LittleEndian.AppendUint32(nil, 4)
			w.manifestKeyRecord = append(w.manifestKeyRecord, wrapped...)
		}
	}
	return w, nil
}

func (w *writer) writeAll() error {
	if err := w.makeBlobDirs(); err != nil {
		return err
	}
	var sink recordSink
	var err error
	manifestPath := filepath.Join(w.dir, "Manifest.db")
	switch {
	case w.opt.Format == FormatMBDB:
		sink, err = newMBDBSink(filepath.Join(w.dir, "Manifest.mbdb"))
	case w.opt.Encrypted:
		plain := filepath.Join(w.dir, plaintextManifestName)
		defer os.Remove(plain)
		sink, err = newDBSink(plain)
	default:
		sink, err = newDBSink(manifestPath)
	}
	if err != nil {
		return err
	}
	if err := w.writeEntries(sink); err != nil {
		sink.abort()
		return err
	}
	if err := sink.finish(); err != nil {
		return err
	}
	if w.opt.Format == FormatDB && w.opt.Encrypted {
		if err := w.encryptManifest(filepath.Join(w.dir, plaintextManifestName), manifestPath); err != nil {
			return err
		}
	}
	return w.writePlists()
}

func (w *writer) blobPath(id manifest.FileID) string {
	name := id.String()
	if w.opt.Format == FormatMBDB {
		return filepath.Join(w.dir, name)
	}
	return filepath.Join(w.dir, name[:2], name)
}

func (w *writer) makeBlobDirs() error {
	if w.opt.Format != FormatDB {
		return nil
	}
	var need [256]bool
	for i := range w.t.Entries {
		e := &w.t.Entries[i]
		if e.Kind == manifest.KindFile && !e.Synthetic && !e.BlobMissing {
			need[e.ID()[0]] = true
		}
	}
	for b, ok := range need {
		if !ok {
			continue
		}
		p := filepath.Join(w.dir, fmt.Sprintf("%02x", b))
		if err := os.Mkdir(p, 0o755); err != nil {
			return fmt.Errorf("gen: create %s: %w", p, err)
		}
	}
	return nil
}

type batch struct {
	start, end int
	recs       [][]byte
	blobBytes  int64
	err        error
	done       chan struct{}
}

// writeEntries prepares entries (blob, record) on all cores, batch by batch, while
// the calling goroutine feeds the records to the sink in order: SQLite inserts run
// while the next blobs are written.
func (w *writer) writeEntries(sink recordSink) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan *batch)
	ordered := make(chan *batch, 2*workers)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(ordered)
		defer close(todo)
		for start := 0; start < len(w.t.Entries); start += batchSize {
			b := &batch{start: start, end: min(start+batchSize, len(w.t.Entries)), done: make(chan struct{})}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
			select {
			case todo <- b:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			buf := make([]byte, chunkSize+16)
			for b := range todo {
				if ctx.Err() == nil {
					w.prepareBatch(b, buf)
				}
				close(b.done)
			}
		})
	}
	err := w.consume(ctx, ordered, sink)
	cancel()
	wg.Wait()
	return err
}

func (w *writer) consume(ctx context.Context, ordered <-chan *batch, sink recordSink) error {
	for b := range ordered {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return b.err
		}
		if b.recs == nil { // skipped after a cancellation
			return errors.New("gen: batch not prepared")
		}
		for i := b.start; i < b.end; i++ {
			if rec := b.recs[i-b.start]; rec != nil {
				if err := sink.add(&w.t.Entries[i], rec); err != nil {
					return err
				}
			}
		}
		w.t.BlobBytes += b.blobBytes
	}
	return nil
}

func (w *writer) prepareBatch(b *batch, buf []byte) {
	b.recs = make([][]byte, b.end-b.start)
	for i := b.start; i < b.end; i++ {
		e := &w.t.Entries[i]
		if e.Synthetic {
			continue
		}
		rec, n, err := w.prepareEntry(e, buf)
		if err != nil {
			b.err = err
			return
		}
		b.recs[i-b.start] = rec
		b.blobBytes += n
	}
}

// prepareEntry writes the entry's blob (if any) and returns its manifest record and
// the blob's size.
func (w *writer) prepareEntry(e *TruthEntry, buf []byte) ([]byte, int64, error) {
	var wrapped []byte // uint32 LE class + 40-byte wrapped file key
	var blobSize int64
	if e.Kind == manifest.KindFile {
		var key []byte
		if w.opt.Encrypted {
			key = w.fileKey(e)
			classKey, ok := w.kb.classKeys[e.ProtectionClass]
			if !ok {
				return nil, 0, fmt.Errorf("gen: %s: no key for protection class %d", e.Key(), e.ProtectionClass)
			}
			wk, err := decrypt.Wrap(classKey, key)
			if err != nil {
				return nil, 0, fmt.Errorf("gen: %s: wrap file key: %w", e.Key(), err)
			}
			wrapped = binary.LittleEndian.AppendUint32(make([]byte, 0, 44), e.ProtectionClass)
			wrapped = append(wrapped, wk...)
		}
		if !e.BlobMissing || w.wantDigest(e) {
			n, digest, err := w.writeBlob(e, key, buf)
			if err != nil {
				return nil, 0, err
			}
			if !e.BlobMissing {
				blobSize = n
			}
			e.Digest = digest
		}
	}
	var rec []byte
	var err error
	if w.opt.Format == FormatMBDB {
		rec, err = mbdbRecord(e, wrapped)
	} else {
		rec, err = mbFileRecord(e, wrapped)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("gen: %s: %w", e.Key(), err)
	}
	return rec, blobSize, nil
}

// wantDigest: iOS 5-9 records a SHA-1 for every file; iOS 10+ backups carry Digest on
// some files only; here on the fixed files whose contents are literal bytes.
func (w *writer) wantDigest(e *TruthEntry) bool {
	return w.opt.Format == FormatMBDB || e.content.kind == contentLiteral
}

// fileKey derives the entry's 32-byte file key from the seed, the fileID and the
// content version: unchanged files keep their key (and blob) across revisions.
func (w *writer) fileKey(e *TruthEntry) []byte {
	h := sha256.New()
	h.Write(w.keySecret[:])
	id := e.ID()
	h.Write(id[:])
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(e.version)))
	return h.Sum(nil)
}

// writeBlob writes the entry's contents (encrypted when key != nil) to its blob and
// returns the blob size and, if wanted, the SHA-1 of the plaintext. With BlobMissing
// the contents are only hashed. Files up to a chunk are built in buf and written with
// one call; bigger ones are streamed chunk by chunk.
func (w *writer) writeBlob(e *TruthEntry, key, buf []byte) (int64, []byte, error) {
	var h hash.Hash
	if w.wantDigest(e) {
		h = sha1.New()
	}
	path := w.blobPath(e.ID())
	if e.TrueSize <= chunkSize {
		data := buf[:e.TrueSize]
		if _, err := io.ReadFull(e.Content(), data); err != nil {
			return 0, nil, fmt.Errorf("gen: contents of %s: %w", e.Key(), err)
		}
		if h != nil {
			h.Write(data)
		}
		if key != nil && !e.BlobMissing {
			var err error
			if data, err = encryptCBCInPlace(buf, len(data), key); err != nil {
				return 0, nil, fmt.Errorf("gen: blob of %s: %w", e.Key(), err)
			}
		}
		if !e.BlobMissing {
			if err := createFile(path, data); err != nil {
				return 0, nil, fmt.Errorf("gen: blob of %s: %w", e.Key(), err)
			}
		}
		return int64(len(data)), sum(h), nil
	}

	var src io.Reader = e.Content()
	if h != nil {
		src = io.TeeReader(src, h)
	}
	var dst io.Writer = io.Discard
	var f *os.File
	if !e.BlobMissing {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return 0, nil, fmt.Errorf("gen: create blob of %s: %w", e.Key(), err)
		}
		dst = f
	}
	var n int64
	var err error
	if key != nil {
		n, err = EncryptCBC(dst, src, key, buf)
	} else {
		n, err = io.CopyBuffer(dst, src, buf[:chunkSize])
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("gen: write %s (blob of %s): %w", path, e.Key(), err)
	}
	return n, sum(h), nil
}

func sum(h hash.Hash) []byte {
	if h == nil {
		return nil
	}
	return h.Sum(nil)
}

func (w *writer) encryptManifest(plainPath, encPath string) error {
	src, err := os.Open(plainPath)
	if err != nil {
		return fmt.Errorf("gen: open %s: %w", plainPath, err)
	}
	defer src.Close()
	dst, err := os.OpenFile(encPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("gen: create %s: %w", encPath, err)
	}
	_, err = EncryptCBC(dst, src, w.manifestKey, make([]byte, chunkSize+16))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gen: encrypt %s into %s: %w", plainPath, encPath, err)
	}
	src.Close() // before the remove: Windows refuses to delete an open file
	return os.Remove(plainPath)
}
