package bench

import (
	"bytes"
	"crypto/aes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"iosbackup/backup"
	"iosbackup/decrypt"
	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// RandReadResult is what RandomRead measured.
type RandReadResult struct {
	Reads   int
	Bytes   int64
	Elapsed time.Duration
}

// IOPS is reads per second.
func (r RandReadResult) IOPS() float64 { return float64(r.Reads) / r.Elapsed.Seconds() }

// MBps is 10^6 bytes per second.
func (r RandReadResult) MBps() float64 { return float64(r.Bytes) / r.Elapsed.Seconds() / 1e6 }

// RandomOffsets returns n offsets of block-aligned reads of blockSize bytes inside a
// file of size bytes, from seed: the same seed gives the same offsets, so the mount and
// the raw blob see the same access pattern.
func RandomOffsets(size int64, blockSize int, n int, seed uint64) ([]int64, error) {
	blocks := size / int64(blockSize)
	if blocks <= 0 || n < 0 {
		return nil, fmt.Errorf("random reads: file of %d bytes holds no %d-byte block", size, blockSize)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	offs := make([]int64, n)
	for i := range offs {
		offs[i] = rng.Int64N(blocks) * int64(blockSize)
	}
	return offs, nil
}

// RandomRead reads blockSize bytes at each offset of path with pread, one at a time
// (queue depth 1, like a database looking up rows), and times the whole run.
func RandomRead(path string, blockSize int, offsets []int64) (RandReadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return RandReadResult{}, fmt.Errorf("random reads: %w", err)
	}
	defer f.Close()
	buf := make([]byte, blockSize)
	res := RandReadResult{}
	start := time.Now()
	for _, off := range offsets {
		n, err := f.ReadAt(buf, off)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			return res, fmt.Errorf("random reads: %s at %d: %w", path, off, err)
		}
		res.Reads++
		res.Bytes += int64(n)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// SequentialRead reads path from start to end with buffers of bufSize bytes and
// returns the byte count and the time taken.
func SequentialRead(path string, bufSize int) (int64, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("sequential read: %w", err)
	}
	defer f.Close()
	buf := make([]byte, bufSize)
	var total int64
	start := time.Now()
	for {
		n, err := f.Read(buf)
		total += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return total, 0, fmt.Errorf("sequential read: %s: %w", path, err)
		}
	}
	return total, time.Since(start), nil
}

// UnlockTimes opens the encrypted backup in dir n times with its derived key (what a
// saved key or --key-file does: no KDF) and returns each time, sorted. Each open
// unwraps the class keys and loads the whole manifest, as every command does.
func UnlockTimes(dir string, kek []byte, n int) ([]time.Duration, error) {
	var out []time.Duration
	for range n {
		start := time.Now()
		b, err := backup.Open(dir, backup.Options{Key: kek})
		if err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
		if !b.Encrypted {
			return nil, fmt.Errorf("%s: not an encrypted backup", dir)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ManifestDecryptTime decrypts the whole Manifest.db of an encrypted backup in memory,
// 1 MiB at a time into one reused buffer (nothing is written), and returns how long the
// decryption alone took, reading the file excluded: the "decryption time" allowance of
// the mount-ready target. It goes through decrypt.Reader, the reader the manifest load
// uses.
func ManifestDecryptTime(dir string, kek []byte) (time.Duration, int64, error) {
	b, err := backup.Open(dir, backup.Options{Key: kek})
	if err != nil {
		return 0, 0, err
	}
	if !b.Encrypted || b.Manifest == nil || len(b.Manifest.ManifestKey) != 44 {
		return 0, 0, nil
	}
	ck, err := classKeys(b)
	if err != nil {
		return 0, 0, err
	}
	mk := b.Manifest.ManifestKey
	key, err := ck.UnwrapFileKey(binary.LittleEndian.Uint32(mk[:4]), mk[4:])
	if err != nil {
		return 0, 0, fmt.Errorf("%s: ManifestKey: %w", dir, err)
	}
	path := filepath.Join(dir, "Manifest.db")
	ct, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	r, err := decrypt.NewRawReader(bytes.NewReader(ct), int64(len(ct)), key)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	buf := make([]byte, 1<<20)
	var total int64
	start := time.Now()
	for off := int64(0); off < r.Size(); off += int64(len(buf)) {
		n, err := r.ReadAt(buf, off)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			return 0, 0, fmt.Errorf("%s at %d: %w", path, off, err)
		}
		total += int64(n)
	}
	return time.Since(start), total, nil
}

func classKeys(b *backup.Backup) (*decrypt.ClassKeys, error) {
	kb, err := decrypt.ParseKeybag(b.Manifest.BackupKeyBag)
	if err != nil {
		return nil, fmt.Errorf("%s: keybag: %w", b.Dir, err)
	}
	ck, err := kb.Unlock(b.KEK())
	if err != nil {
		return nil, fmt.Errorf("%s: keybag: %w", b.Dir, err)
	}
	return ck, nil
}

// ReplaceContents makes the file domain/path of the encrypted backup in dir hold the
// contents of src instead, encrypted with that file's own key (AES-256-CBC, zero IV,
// PKCS#7) as a device would: a bench can then put a file it built (a large SQLite
// database) into a generated backup. The manifest is not rewritten, so its recorded
// Size keeps the old value, as for a real database that grew after its row was
// written; readers take the size from the padding.
//
// The blob is written next to the old one and renamed over it, so an interrupted run
// leaves the old blob, never a half-written one.
func ReplaceContents(dir string, kek []byte, domain, path string, src io.Reader) error {
	b, err := backup.Open(dir, backup.Options{Key: kek})
	if err != nil {
		return err
	}
	if !b.Encrypted {
		return fmt.Errorf("%s: not an encrypted backup", dir)
	}
	idx, ok := b.Index.Lookup(domain, path)
	if !ok {
		return fmt.Errorf("%s: no entry %s/%s", dir, domain, path)
	}
	e := b.Index.Entry(idx)
	if e.Kind != manifest.KindFile || e.WrappedKey == nil {
		return fmt.Errorf("%s: %s/%s is not an encrypted file", dir, domain, path)
	}
	ck, err := classKeys(b)
	if err != nil {
		return err
	}
	key, err := ck.UnwrapFileKey(e.ProtectionClass, e.WrappedKey[:])
	if err != nil {
		return fmt.Errorf("%s: %s/%s: file key: %w", dir, domain, path, err)
	}
	blob := b.BlobPath(e)
	tmp, err := os.CreateTemp(filepath.Dir(blob), ".replace-*")
	if err != nil {
		return fmt.Errorf("replace %s/%s: %w", domain, path, err)
	}
	defer os.Remove(tmp.Name())              // a no-op once renamed
	if err := tmp.Chmod(0o644); err != nil { // as the generator's blobs
		tmp.Close()
		return fmt.Errorf("replace %s/%s: %w", domain, path, err)
	}
	if _, err := gen.EncryptCBC(tmp, src, key, make([]byte, 1<<20+aes.BlockSize)); err != nil {
		tmp.Close()
		return fmt.Errorf("replace %s/%s: %w", domain, path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("replace %s/%s: %w", domain, path, err)
	}
	if err := os.Rename(tmp.Name(), blob); err != nil {
		return fmt.Errorf("replace %s/%s: %w", domain, path, err)
	}
	return nil
}

// HeapReport is what a loaded backup keeps live.
type HeapReport struct {
	Entries    int
	EntrySize  uintptr // bytes of one manifest.Entry
	EntryBytes uint64  // Entries * EntrySize
	Live       uint64  // heap in use after a collection, the backup still referenced
}

// IndexHeap opens the backup in dir (with kek when it is encrypted), collects garbage
// and reports the live heap and the part of it that is Entry structs.
func IndexHeap(dir string, kek []byte) (HeapReport, error) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := backup.Open(dir, backup.Options{Key: kek})
	if err != nil {
		return HeapReport{}, err
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	n := b.Index.Len()
	size := unsafe.Sizeof(manifest.Entry{})
	r := HeapReport{Entries: n, EntrySize: size, EntryBytes: uint64(n) * uint64(size), Live: after.HeapAlloc - before.HeapAlloc}
	runtime.KeepAlive(b)
	return r, nil
}
