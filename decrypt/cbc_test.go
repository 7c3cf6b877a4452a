package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var sqliteHeader = []byte("SQLite format 3\x00")

func TestSampleEncryptedSQLite(t *testing.T) {
	// encrypted_sqlite3_db.bin (also the encrypted-synthetic-pw0000
	// Manifest.db) comes from pyiosbackup's tests, which encrypted it WITHOUT
	// PKCS#7 padding: 8192 bytes of ciphertext for an 8192-byte database whose
	// last byte is 0x7a. The strict functions must say so; the raw ones read it.
	ct := readSample(t, "vectors", "encrypted_sqlite3_db.bin")
	if _, err := DecryptAll(ct, zeroKey); !errors.Is(err, ErrBadPadding) {
		t.Fatalf("DecryptAll: %v, want ErrBadPadding (the sample is unpadded)", err)
	}
	plain, err := DecryptRaw(ct, zeroKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 8192 || !bytes.HasPrefix(plain, sqliteHeader) {
		t.Fatalf("DecryptRaw: %d bytes starting %q", len(plain), plain[:16])
	}
	// SQLite's header (big-endian page size at offset 16) agrees: 4096-byte
	// pages, and the 8192 bytes are exactly two of them.
	if pageSize := int(plain[16])<<8 | int(plain[17]); pageSize != 4096 {
		t.Errorf("page size %d", pageSize)
	}

	f, err := os.Open(filepath.Join(samplesDir, "vectors", "encrypted_sqlite3_db.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := NewReader(f, int64(len(ct)), zeroKey); !errors.Is(err, ErrBadPadding) {
		t.Fatalf("NewReader: %v, want ErrBadPadding", err)
	}
	r, err := NewRawReader(f, int64(len(ct)), zeroKey)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != 8192 {
		t.Fatalf("raw Size() = %d", r.Size())
	}
	got := make([]byte, 8192)
	if n, err := r.ReadAt(got, 0); n != 8192 || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatal("Reader and DecryptRaw disagree")
	}
	// Random access in the middle: the second page alone.
	page := make([]byte, 4096)
	if n, err := r.ReadAt(page, 4096); n != 4096 || err != nil || !bytes.Equal(page, plain[4096:]) {
		t.Fatalf("ReadAt page 2 = %d, %v", n, err)
	}
}

func TestSampleSyntheticBlob(t *testing.T) {
	path := filepath.Join(samplesDir, "encrypted-synthetic-pw0000", "57", "5727bd1c5fa1055e15d8b4a75a74793c84b5ffdc")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(f, fi.Size(), zeroKey)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != 9 || r.BlobSize() != 16 {
		t.Fatalf("Size() = %d, BlobSize() = %d; want 9, 16", r.Size(), r.BlobSize())
	}
	buf := make([]byte, 32)
	n, err := r.ReadAt(buf, 0)
	if n != 9 || err != io.EOF || string(buf[:n]) != "Test data" {
		t.Fatalf("ReadAt = %d, %v, %q; want 9, EOF, \"Test data\"", n, err, buf[:n])
	}
	n, err = r.ReadAt(buf[:4], 5)
	if n != 4 || err != nil || string(buf[:4]) != "data" {
		t.Fatalf("ReadAt(4 at 5) = %d, %v, %q", n, err, buf[:4])
	}
	all, err := DecryptAll(readSample(t, "encrypted-synthetic-pw0000", "57", "5727bd1c5fa1055e15d8b4a75a74793c84b5ffdc"), zeroKey)
	if err != nil || string(all) != "Test data" {
		t.Fatalf("DecryptAll = %q, %v", all, err)
	}
}

// checkReadAt reads len n at off and compares with the plaintext, the
// io.ReaderAt contract, the bytes of p past n (must be untouched) and, when
// blob is given, that exactly one blob read covered exactly the needed blocks.
func checkReadAt(t *testing.T, r *Reader, plain []byte, off int64, n int, blob *countingReaderAt) {
	t.Helper()
	const sentinel = 0xEE
	p := bytes.Repeat([]byte{sentinel}, n)
	if blob != nil {
		blob.reset()
	}
	got, err := r.ReadAt(p, off)

	size := int64(len(plain))
	wantN := 0
	if off < size {
		wantN = int(min(int64(n), size-off))
	}
	var wantErr error
	if wantN < n {
		wantErr = io.EOF
	}
	if got != wantN || err != wantErr {
		t.Fatalf("size %d: ReadAt(len %d, off %d) = %d, %v; want %d, %v", size, n, off, got, err, wantN, wantErr)
	}
	if got > 0 && !bytes.Equal(p[:got], plain[off:off+int64(got)]) {
		t.Fatalf("size %d: ReadAt(len %d, off %d): wrong plaintext", size, n, off)
	}
	for i := got; i < n; i++ {
		if p[i] != sentinel {
			t.Fatalf("size %d: ReadAt(len %d, off %d) wrote p[%d] past n=%d", size, n, off, i, got)
		}
	}
	if blob == nil {
		return
	}
	calls := blob.reset()
	if wantN == 0 {
		if len(calls) != 0 {
			t.Fatalf("size %d: ReadAt(len %d, off %d) read the blob %v for nothing", size, n, off, calls)
		}
		return
	}
	blockStart := off &^ 15
	blockEnd := (off + int64(wantN) + 15) &^ 15
	wantOff := max(blockStart-16, 0)
	if len(calls) != 1 || calls[0] != [2]int64{wantOff, blockEnd - wantOff} {
		t.Fatalf("size %d: ReadAt(len %d, off %d) read the blob %v; want once [%d, %d)", size, n, off, calls, wantOff, blockEnd)
	}
}

func newTestReader(t *testing.T, rng *rand.Rand, size int) ([]byte, *Reader, *countingReaderAt) {
	t.Helper()
	key := randomBytes(rng, 32)
	plain := randomBytes(rng, size)
	blob := &countingReaderAt{r: bytes.NewReader(encryptCBC(t, key, plain))}
	blobSize := int64(size/16+1) * 16
	r, err := NewReader(blob, blobSize, key)
	if err != nil {
		t.Fatalf("size %d: NewReader: %v", size, err)
	}
	if r.Size() != int64(size) {
		t.Fatalf("size %d: Size() = %d", size, r.Size())
	}
	// NewReader reads only the last two blocks (one for a one-block blob).
	calls := blob.reset()
	wantOff := max(blobSize-32, 0)
	if len(calls) != 1 || calls[0] != [2]int64{wantOff, blobSize - wantOff} {
		t.Fatalf("size %d: NewReader read %v, want the last two blocks", size, calls)
	}
	return plain, r, blob
}

func TestReaderRandomAccessSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for size := 0; size <= 200; size++ {
		plain, r, blob := newTestReader(t, rng, size)
		// Every offset, with lengths around block and file boundaries.
		for off := int64(0); off <= int64(size)+2; off++ {
			rest := int(int64(size) - off)
			lengths := []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 48, 100, 250}
			if rest >= 0 {
				lengths = append(lengths, max(rest-1, 0), rest, rest+1, rest+16)
			}
			for _, n := range lengths {
				checkReadAt(t, r, plain, off, n, blob)
			}
		}
	}
}

func TestReaderRandomAccessBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var sizes []int
	for _, b := range []int{4096, 65536, 128 << 10} {
		for d := -17; d <= 17; d++ {
			if d >= -2 && d <= 2 || d == -17 || d == -16 || d == -15 || d == 15 || d == 16 || d == 17 {
				sizes = append(sizes, b+d)
			}
		}
	}
	for _, size := range sizes {
		plain, r, blob := newTestReader(t, rng, size)
		var offs []int64
		for _, o := range []int{0, 1, 15, 16, 17, 31, 32, 4095, 4096, 4097, size - 33, size - 32, size - 17, size - 16, size - 15, size - 1, size, size + 1} {
			if o >= 0 {
				offs = append(offs, int64(o))
			}
		}
		for _, off := range offs {
			rest := size - int(off)
			for _, n := range []int{1, 15, 16, 17, 4095, 4096, 4097, 65536, rest - 1, rest, rest + 1, rest + 4096} {
				if n >= 0 {
					checkReadAt(t, r, plain, off, n, blob)
				}
			}
		}
	}
}

func TestReaderLargeReadsAreChunked(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	size := 2*maxChunk + 12345
	plain, r, blob := newTestReader(t, rng, size)
	for _, off := range []int64{0, 5, 16, maxChunk - 1} {
		p := make([]byte, size+100)
		n, err := r.ReadAt(p, off)
		if n != size-int(off) || err != io.EOF || !bytes.Equal(p[:n], plain[off:]) {
			t.Fatalf("ReadAt(all, %d) = %d, %v", off, n, err)
		}
		calls := blob.reset()
		if want := (n + maxChunk - 1) / maxChunk; len(calls) != want {
			t.Fatalf("ReadAt(all, %d): %d blob reads, want %d (1 MiB chunks)", off, len(calls), want)
		}
	}
	// Exactly 1 MiB at an unaligned offset still takes one blob read.
	checkReadAt(t, r, plain, 7, maxChunk, blob)
}

func TestReaderConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	plain, r, _ := newTestReader(t, rng, 300_000)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lr := rand.New(rand.NewPCG(uint64(g), 99))
			for range 300 {
				off := lr.Int64N(int64(len(plain)))
				n := lr.IntN(200_000)
				p := make([]byte, n)
				got, err := r.ReadAt(p, off)
				want := min(n, len(plain)-int(off))
				if got != want || (err != nil && err != io.EOF) || !bytes.Equal(p[:got], plain[off:off+int64(got)]) {
					errs <- fmt.Errorf("ReadAt(%d, %d) = %d, %v", n, off, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestReaderDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	_, r, _ := newTestReader(t, rng, 1<<20)
	blob := r.blob.(*countingReaderAt).r // no recording: it allocates
	r.blob = blob
	for _, tc := range []struct {
		n   int
		off int64
	}{{4096, 0}, {4096, 8192}, {4096, 8193}, {100, 77}, {128 << 10, 65536}, {128 << 10, 3}, {1 << 20, 0}} {
		p := make([]byte, tc.n)
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := r.ReadAt(p, tc.off); err != nil && err != io.EOF {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ReadAt(%d bytes at %d): %v allocations per call", tc.n, tc.off, allocs)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	key := randomBytes(rng, 32)
	data := make([]byte, 64)
	for _, size := range []int64{0, 15, 17, -16, 63} {
		if _, err := NewReader(bytes.NewReader(data), size, key); !errors.Is(err, ErrNotBlockAligned) {
			t.Errorf("NewReader(size %d): %v, want ErrNotBlockAligned", size, err)
		}
		if _, err := NewRawReader(bytes.NewReader(data), size, key); !errors.Is(err, ErrNotBlockAligned) {
			t.Errorf("NewRawReader(size %d): %v, want ErrNotBlockAligned", size, err)
		}
	}
	for _, n := range []int{0, 15, 17, 33} {
		if _, err := DecryptAll(make([]byte, n), key); !errors.Is(err, ErrNotBlockAligned) {
			t.Errorf("DecryptAll(%d bytes): %v, want ErrNotBlockAligned", n, err)
		}
	}
	for _, n := range []int{0, 16, 24, 31} {
		if _, err := NewReader(bytes.NewReader(data), 64, make([]byte, n)); err == nil {
			t.Errorf("NewReader with %d-byte key: no error", n)
		}
	}
	if _, err := NewReader(nil, 16, key); err == nil {
		t.Error("NewReader(nil blob): no error")
	}

	// Padding: plaintext of 20 bytes has 12 bytes of pad 0x0c. Flipping bits
	// of the previous ciphertext block flips the same bits of the last
	// plaintext block, which makes each chosen corruption exact.
	plain := randomBytes(rng, 20)
	ct := encryptCBC(t, key, plain)
	for _, tc := range []struct {
		name     string
		at       int  // byte of the last plaintext block to change
		xor      byte // what to XOR it with
		wantSize int64
	}{
		{"pad byte 0", 15, 0x0c, -1},
		{"pad byte 17", 15, 0x0c ^ 17, -1},
		{"pad byte 0xff", 15, 0x0c ^ 0xff, -1},
		{"pad byte 11, bytes 12", 15, 0x0c ^ 11, -1},
		{"one pad byte differs", 6, 1, -1},
		{"first pad byte differs", 4, 0x80, -1},
		{"valid pad of 1", 15, 0x0c ^ 1, 31},
	} {
		bad := bytes.Clone(ct)
		bad[tc.at] ^= tc.xor // ct[0:16] is the block before the last
		r, err := NewReader(bytes.NewReader(bad), int64(len(bad)), key)
		if tc.wantSize < 0 {
			if !errors.Is(err, ErrBadPadding) {
				t.Errorf("%s: NewReader: %v, want ErrBadPadding", tc.name, err)
			}
			if _, err := DecryptAll(bad, key); !errors.Is(err, ErrBadPadding) {
				t.Errorf("%s: DecryptAll: %v, want ErrBadPadding", tc.name, err)
			}
			continue
		}
		if err != nil || r.Size() != tc.wantSize {
			t.Errorf("%s: NewReader = %v; want size %d", tc.name, err, tc.wantSize)
		}
	}

	// Truncated blobs: shorter than the size we were told, at creation or
	// later (the file shrank under an open Reader).
	plain = randomBytes(rng, 1000)
	ct = encryptCBC(t, key, plain)
	if _, err := NewReader(&shortReaderAt{data: ct, limit: int64(len(ct)) - 16}, int64(len(ct)), key); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("NewReader on a truncated blob: %v, want io.ErrUnexpectedEOF", err)
	}
	short := &shortReaderAt{data: ct, limit: int64(len(ct))}
	r, err := NewReader(short, int64(len(ct)), key)
	if err != nil {
		t.Fatal(err)
	}
	short.limit = 500
	p := make([]byte, 200)
	if n, err := r.ReadAt(p, 100); n != 200 || err != nil {
		t.Errorf("ReadAt before the cut: %d, %v", n, err)
	}
	for _, off := range []int64{400, 480, 600, 990} {
		n, err := r.ReadAt(p, off)
		if n >= len(p) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadAt(%d bytes at %d) past the cut: %d, %v; want a short read and io.ErrUnexpectedEOF", len(p), off, n, err)
		}
	}
	short.err = syscall.EIO
	if _, err := r.ReadAt(p, 600); !errors.Is(err, syscall.EIO) {
		t.Errorf("ReadAt with an I/O error: %v, want EIO wrapped", err)
	}
	big := make([]byte, 3*maxChunk)
	bigCT := encryptCBC(t, key, big)
	bigShort := &shortReaderAt{data: bigCT, limit: int64(len(bigCT))}
	br, err := NewReader(bigShort, int64(len(bigCT)), key)
	if err != nil {
		t.Fatal(err)
	}
	bigShort.limit = maxChunk + 100
	if n, err := br.ReadAt(make([]byte, len(big)), 0); n != maxChunk || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("chunked ReadAt past the cut: %d, %v; want the first chunk and io.ErrUnexpectedEOF", n, err)
	}

	// A blob that reports io.EOF along with a full read is fine.
	er, err := NewReader(eofAtEndReaderAt{ct}, int64(len(ct)), key)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]byte, 1000)
	if n, err := er.ReadAt(all, 0); n != 1000 || err != nil || !bytes.Equal(all, plain) {
		t.Errorf("ReadAt on an EOF-reporting blob: %d, %v", n, err)
	}

	if _, err := r.ReadAt(p, -1); err == nil {
		t.Error("ReadAt at -1: no error")
	}
	if n, err := r.ReadAt(nil, 5); n != 0 || err != nil {
		t.Errorf("ReadAt(nil) = %d, %v", n, err)
	}
}

func TestDecryptAllMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, size := range []int{0, 1, 15, 16, 17, 4096, 10007} {
		key := randomBytes(rng, 32)
		plain := randomBytes(rng, size)
		got, err := DecryptAll(encryptCBC(t, key, plain), key)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: DecryptAll = %d bytes, %v", size, len(got), err)
		}
	}
}

func FuzzReaderAt(f *testing.F) {
	f.Add(uint64(1), uint16(0), uint32(0), uint32(0))
	f.Add(uint64(2), uint16(9), uint32(0), uint32(16))
	f.Add(uint64(3), uint16(4096), uint32(4000), uint32(200))
	f.Add(uint64(4), uint16(4111), uint32(4095), uint32(1))
	f.Add(uint64(5), uint16(65535), uint32(65530), uint32(70000))
	f.Fuzz(func(t *testing.T, seed uint64, size uint16, off, n uint32) {
		rng := rand.New(rand.NewPCG(seed, seed>>1))
		key := randomBytes(rng, 32)
		plain := randomBytes(rng, int(size))
		ct := encryptCBC(t, key, plain)
		r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := DecryptAll(ct, key)
		if err != nil || !bytes.Equal(whole, plain) {
			t.Fatal("DecryptAll differs from the reference")
		}
		checkReadAt(t, r, plain, int64(off%(uint32(size)+64)), int(n%(1<<17)), nil)
	})
}

func BenchmarkReaderAt(b *testing.B) {
	const blobPlain = 8 << 20
	const readSize = 128 << 10
	rng := rand.New(rand.NewPCG(19, 20))
	key := randomBytes(rng, 32)
	ct := encryptCBC(b, key, randomBytes(rng, blobPlain))
	r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key)
	if err != nil {
		b.Fatal(err)
	}
	for _, shift := range []int64{0, 7} {
		b.Run(fmt.Sprintf("128KiB/offset+%d", shift), func(b *testing.B) {
			p := make([]byte, readSize)
			b.SetBytes(readSize)
			b.ReportAllocs()
			off := int64(0)
			for b.Loop() {
				if _, err := r.ReadAt(p, off+shift); err != nil {
					b.Fatal(err)
				}
				off += readSize
				if off+readSize+shift > blobPlain {
					off = 0
				}
			}
		})
	}
}
