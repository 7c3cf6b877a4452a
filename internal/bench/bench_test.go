package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"iosbackup/backup"
	"iosbackup/decrypt/speed"
	"iosbackup/internal/gen"
)

// The kernels' benchmarks: `make bench` runs them with
//
//	go test -run '^$' -bench 'CBC' -count 5 ./internal/bench
//	go test -run '^$' -bench 'KDF' -benchtime 1x -count 3 ./internal/bench
//
// and compares BenchmarkCBC/ours-64KiB with `openssl speed -evp aes-256-cbc -decrypt
// -bytes 65536` on one core.

func BenchmarkCBC(b *testing.B) {
	if err := speed.CheckCBC(); err != nil {
		b.Fatal(err)
	}
	for _, impl := range []speed.CBCImpl{speed.CBCOurs, speed.CBCStdlib} {
		for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s-%dKiB", impl, size>>10), func(b *testing.B) {
				dec, err := speed.NewCBC(impl, benchKey)
				if err != nil {
					b.Fatal(err)
				}
				src := make([]byte, size)
				fillPattern(src, 3)
				dst := make([]byte, size)
				b.SetBytes(int64(size))
				for b.Loop() {
					dec(dst, src)
				}
			})
		}
	}
}

// BenchmarkKDF derives one key with the 10,000,000 rounds of an iOS 10.2+ keybag per
// iteration: run it with -benchtime 1x.
func BenchmarkKDF(b *testing.B) {
	if err := speed.CheckKDF(); err != nil {
		b.Fatal(err)
	}
	for _, impl := range []speed.KDFImpl{speed.KDFOurs, speed.KDFStdlib} {
		b.Run(impl.String()+"-10M", func(b *testing.B) {
			for b.Loop() {
				if _, err := speed.DeriveKey(impl, speed.RealSHA256Rounds); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestRandomOffsets(t *testing.T) {
	const size, bs = 1<<20 + 100, 4096
	a, err := RandomOffsets(size, bs, 1000, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomOffsets(size, bs, 1000, 7)
	c, _ := RandomOffsets(size, bs, 1000, 8)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different offsets")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same offsets")
	}
	for _, off := range a {
		if off%bs != 0 || off < 0 || off+bs > size {
			t.Fatalf("offset %d: not an aligned block inside %d bytes", off, size)
		}
	}
	if _, err := RandomOffsets(100, bs, 10, 1); err == nil {
		t.Error("a file smaller than one block was accepted")
	}
}

func TestReadersCountBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 3<<20+123)
	fillPattern(data, 5)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	n, _, err := SequentialRead(path, 1<<20)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("SequentialRead = %d, %v; want %d bytes", n, err, len(data))
	}
	offs, _ := RandomOffsets(int64(len(data)), 4096, 50, 1)
	r, err := RandomRead(path, 4096, offs)
	if err != nil || r.Reads != 50 || r.Bytes != 50*4096 {
		t.Fatalf("RandomRead = %+v, %v; want 50 reads of 4096 bytes", r, err)
	}
	if _, err := RandomRead(filepath.Join(t.TempDir(), "missing"), 4096, offs); err == nil {
		t.Error("RandomRead of a missing file succeeded")
	}
}

// genEncrypted writes a small encrypted backup with a fast KDF.
func genEncrypted(t *testing.T) *gen.Truth {
	t.Helper()
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "b"), gen.Options{
		Seed: 3, Encrypted: true, Password: "pw", SHA256Rounds: 100, SHA1Rounds: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

func TestReplaceContentsIsReadBack(t *testing.T) {
	truth := genEncrypted(t)
	const domain, path = "HomeDomain", "Library/SMS/sms.db"
	if truth.Lookup(domain, path) == nil {
		t.Fatalf("the generator no longer writes %s/%s", domain, path)
	}
	// Several sizes: a whole number of blocks (a full padding block follows) and not.
	for _, size := range []int{0, 4096, 1<<20 + 7} {
		want := make([]byte, size)
		fillPattern(want, uint64(size))
		if err := ReplaceContents(truth.Dir, truth.DerivedKey, domain, path, bytes.NewReader(want)); err != nil {
			t.Fatal(err)
		}
		b, err := backup.Open(truth.Dir, backup.Options{Key: truth.DerivedKey})
		if err != nil {
			t.Fatal(err)
		}
		idx, _ := b.Index.Lookup(domain, path)
		f, err := b.OpenFile(b.Index.Entry(idx))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: read back %d bytes that differ from the %d written", size, len(got), len(want))
		}
		if matches, _ := filepath.Glob(filepath.Join(truth.Dir, "*", ".replace-*")); len(matches) > 0 {
			t.Fatalf("temporary files left behind: %v", matches)
		}
	}
	if err := ReplaceContents(truth.Dir, truth.DerivedKey, domain, "no/such/file", bytes.NewReader(nil)); err == nil {
		t.Error("replacing a file that is not in the manifest succeeded")
	}
	if err := ReplaceContents(truth.Dir, truth.DerivedKey, domain, "Library/SMS", bytes.NewReader(nil)); err == nil {
		t.Error("replacing a folder succeeded")
	}
}

func TestUnlockAndManifestTimes(t *testing.T) {
	truth := genEncrypted(t)
	times, err := UnlockTimes(truth.Dir, truth.DerivedKey, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 || !slices.IsSorted(times) {
		t.Errorf("UnlockTimes = %v; want 3 sorted durations", times)
	}
	wrong := bytes.Repeat([]byte{1}, 32)
	if _, err := UnlockTimes(truth.Dir, wrong, 1); err == nil {
		t.Error("a wrong key unlocked the backup")
	}
	_, n, err := ManifestDecryptTime(truth.Dir, truth.DerivedKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(truth.Dir, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	if n != st.Size() {
		t.Errorf("ManifestDecryptTime decrypted %d bytes; Manifest.db has %d", n, st.Size())
	}
}

func TestIndexHeapCountsTheEntries(t *testing.T) {
	truth := genEncrypted(t)
	h, err := IndexHeap(truth.Dir, truth.DerivedKey)
	if err != nil {
		t.Fatal(err)
	}
	if h.Entries != len(truth.Entries) {
		t.Errorf("IndexHeap saw %d entries; the generator wrote %d", h.Entries, len(truth.Entries))
	}
	if h.EntryBytes == 0 || h.Live < h.EntryBytes {
		t.Errorf("live heap %d B smaller than its %d B of entries", h.Live, h.EntryBytes)
	}
	if _, err := IndexHeap(truth.Dir, bytes.Repeat([]byte{1}, 32)); err == nil {
		t.Error("a wrong key opened the backup")
	}
}

// benchKey is a fixed AES-256 key: the speed of AES does not depend on the key.
var benchKey = []byte("iosbackup bench key, 32 bytes!!!")

// fillPattern fills b with a cheap deterministic non-repeating pattern.
func fillPattern(b []byte, seed uint64) {
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
}
