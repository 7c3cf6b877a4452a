package aescbc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testedImpls are the implementations this CPU can run, plus the generic
// one, so every path is compared with crypto/cipher on the same machine.
func testedImpls() []implementation {
	var out []implementation
	seenGeneric := false
	for _, impl := range implementations {
		if impl.available {
			out = append(out, impl)
			seenGeneric = seenGeneric || impl.name == genericImpl.name
		}
	}
	if !seenGeneric {
		out = append(out, genericImpl)
	}
	return out
}

func TestImplementationsReported(t *testing.T) {
	for _, impl := range testedImpls() {
		t.Logf("testing implementation %s", impl.name)
	}
	t.Logf("default implementation: %s", defaultImpl.name)
}

// stdlibDecrypt is the reference: crypto/cipher's CBC decrypter.
func stdlibDecrypt(t testing.TB, key, iv, src []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(src))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, src)
	return out
}

// NIST SP 800-38A appendix F.2: CBC-AES128/192/256.Decrypt.
var sp80038aVectors = []struct {
	name, key, ciphertext string
}{
	{"F.2.2 CBC-AES128", "2b7e151628aed2a6abf7158809cf4f3c",
		"7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" +
			"73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"},
	{"F.2.4 CBC-AES192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		"4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a" +
			"571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd"},
	{"F.2.6 CBC-AES256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		"f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d" +
			"39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
}

const (
	sp80038aIV        = "000102030405060708090a0b0c0d0e0f"
	sp80038aPlaintext = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
		"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)

func TestSP80038AVectors(t *testing.T) {
	iv := unhex(t, sp80038aIV)
	want := unhex(t, sp80038aPlaintext)
	for _, v := range sp80038aVectors {
		d, err := New(unhex(t, v.key))
		if err != nil {
			t.Fatal(err)
		}
		ct := unhex(t, v.ciphertext)
		for _, impl := range testedImpls() {
			got := make([]byte, len(ct))
			impl.decrypt(d, got, ct, iv)
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s: got %x, want %x", v.name, impl.name, got, want)
			}
			// The same vector repeated so the wide paths (16 and 32
			// blocks per batch) see it too: block 4 chains on block 3.
			long := bytes.Repeat(ct, 16)
			longIV := iv
			gotLong := make([]byte, len(long))
			impl.decrypt(d, gotLong, long, longIV)
			if !bytes.Equal(gotLong[:64], want) {
				t.Errorf("%s %s (repeated): first 64 bytes %x, want %x", v.name, impl.name, gotLong[:64], want)
			}
			if !bytes.Equal(gotLong, stdlibDecrypt(t, unhex(t, v.key), iv, long)) {
				t.Errorf("%s %s (repeated): differs from crypto/cipher", v.name, impl.name)
			}
		}
	}
}

// TestKeySchedule checks the key expansion against FIPS-197 appendix A.1
// (last round key of the AES-128 example) and A.3 (AES-256).
func TestKeySchedule(t *testing.T) {
	w := expandEncryptionKey(unhex(t, "2b7e151628aed2a6abf7158809cf4f3c"))
	if got, want := w[40:44], []uint32{0xd014f9a8, 0xc9ee2589, 0xe13f0cc8, 0xb6630ca6}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("AES-128 w[40..43] = %x, want %x", got, want)
	}
	w = expandEncryptionKey(unhex(t, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"))
	if got, want := w[56:60], []uint32{0xfe4890d1, 0xe6188d0b, 0x046df344, 0x706c631e}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("AES-256 w[56..59] = %x, want %x", got, want)
	}
	if sbox[0x00] != 0x63 || sbox[0x53] != 0xed || sbox[0xff] != 0x16 {
		t.Errorf("sbox spot check failed: %x %x %x", sbox[0x00], sbox[0x53], sbox[0xff])
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	for _, n := range []int{0, 1, 15, 17, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New with %d-byte key: no error", n)
		}
	}
}

// offsetSlice returns a slice of n bytes that starts off bytes into its
// backing array, filled from r.
func offsetSlice(r *rand.ChaCha8, off, n int) []byte {
	buf := make([]byte, off+n+16)
	r.Read(buf)
	return buf[off : off+n : off+n]
}

// blockCounts covers every count up to 64 blocks (all tails of the 8-, 16-
// and 32-block batches) plus larger ones around the batch boundaries.
func blockCounts() []int {
	var counts []int
	for n := 0; n <= 64; n++ {
		counts = append(counts, n)
	}
	return append(counts, 95, 96, 97, 127, 128, 129, 1000, 65536, 65536+31)
}

func TestMatchesStdlib(t *testing.T) {
	r := rand.NewChaCha8([32]byte{1})
	for _, impl := range testedImpls() {
		for _, keyLen := range []int{16, 24, 32} {
			key := make([]byte, keyLen)
			r.Read(key)
			d, err := New(key)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range blockCounts() {
				srcOff := n % 16
				dstOff := (n*7 + 3) % 16
				if n >= 65536 {
					srcOff, dstOff = 5, 11
				}
				iv := offsetSlice(r, n%3, 16)
				ivCopy := bytes.Clone(iv)
				src := offsetSlice(r, srcOff, n*16)
				want := stdlibDecrypt(t, key, iv, src)
				name := fmt.Sprintf("%s/AES-%d/%d blocks", impl.name, keyLen*8, n)

				// Out of place, dst longer than src: the extra bytes stay.
				dst := offsetSlice(r, dstOff, n*16+16)
				tailBefore := bytes.Clone(dst[n*16:])
				srcCopy := bytes.Clone(src)
				if n > 0 {
					impl.decrypt(d, dst[:n*16], src, iv)
				}
				if !bytes.Equal(dst[:n*16], want) {
					t.Errorf("%s out of place: differs from crypto/cipher", name)
				}
				if !bytes.Equal(dst[n*16:], tailBefore) {
					t.Errorf("%s: wrote past len(src)", name)
				}
				if !bytes.Equal(src, srcCopy) {
					t.Errorf("%s: modified src", name)
				}

				// In place.
				if n > 0 {
					impl.decrypt(d, src, src, iv)
				}
				if !bytes.Equal(src, want) {
					t.Errorf("%s in place: differs from crypto/cipher", name)
				}
				if !bytes.Equal(iv, ivCopy) {
					t.Errorf("%s: modified iv", name)
				}
			}
		}
	}
}

// TestRandomAccess decrypts a message in two pieces, the second using the
// last ciphertext block of the first as its IV, as a random-access reader
// does, in place, and checks it equals the whole-message decryption.
func TestRandomAccess(t *testing.T) {
	r := rand.NewChaCha8([32]byte{2})
	key := make([]byte, 32)
	r.Read(key)
	d, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	iv := offsetSlice(r, 0, 16)
	ct := offsetSlice(r, 0, 300*16)
	want := stdlibDecrypt(t, key, iv, ct)
	for _, split := range []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 299} {
		buf := bytes.Clone(ct)
		chain := bytes.Clone(buf[split*16-16 : split*16])
		d.DecryptCBC(buf[:split*16], buf[:split*16], iv)
		d.DecryptCBC(buf[split*16:], buf[split*16:], chain)
		if !bytes.Equal(buf, want) {
			t.Errorf("split at block %d: differs from whole-message decryption", split)
		}
	}
}

func TestDecryptCBCPanicsOnMisuse(t *testing.T) {
	d, err := New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	cases := []struct {
		name          string
		dst, src, iv  []byte
		wantPanicText string
	}{
		{"short iv", buf[:32], buf[:32], make([]byte, 15), "IV length"},
		{"partial block", make([]byte, 32), make([]byte, 31), make([]byte, 16), "full blocks"},
		{"short dst", make([]byte, 16), make([]byte, 32), make([]byte, 16), "output smaller"},
		{"inexact overlap", buf[16:48], buf[:32], make([]byte, 16), "overlap"},
		{"inexact overlap, dst first", buf[:32], buf[16:48], make([]byte, 16), "overlap"},
	}
	for _, c := range cases {
		func() {
			defer func() {
				p := recover()
				s, _ := p.(string)
				if p == nil || !bytes.Contains([]byte(s), []byte(c.wantPanicText)) {
					t.Errorf("%s: recovered %v, want panic containing %q", c.name, p, c.wantPanicText)
				}
			}()
			d.DecryptCBC(c.dst, c.src, c.iv)
		}()
	}
	// Empty input is fine and touches nothing.
	d.DecryptCBC(nil, nil, make([]byte, 16))
}

// TestConcurrentUse shares one Decrypter between goroutines (run with
// -race to check it has no mutable state).
func TestConcurrentUse(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	d, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.NewChaCha8([32]byte{byte(g)})
			iv := offsetSlice(r, 0, 16)
			src := offsetSlice(r, g, (100+g)*16)
			want := stdlibDecrypt(t, key, iv, src)
			for i := 0; i < 20; i++ {
				got := make([]byte, len(src))
				d.DecryptCBC(got, src, iv)
				if !bytes.Equal(got, want) {
					t.Errorf("goroutine %d: differs from crypto/cipher", g)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func FuzzDecryptCBC(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 32), make([]byte, 16), make([]byte, 64), uint8(0))
	f.Add(bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{9}, 16), make([]byte, 33*16+5), uint8(3))
	f.Add(bytes.Repeat([]byte{3}, 24), bytes.Repeat([]byte{9}, 16), make([]byte, 70*16), uint8(15))
	f.Fuzz(func(t *testing.T, key, iv, data []byte, off uint8) {
		switch {
		case len(key) >= 32:
			key = key[:32]
		case len(key) >= 24:
			key = key[:24]
		case len(key) >= 16:
			key = key[:16]
		default:
			return
		}
		if len(iv) < 16 {
			return
		}
		iv = iv[:16]
		data = data[:len(data)&^15]
		d, err := New(key)
		if err != nil {
			t.Fatal(err)
		}
		want := stdlibDecrypt(t, key, iv, data)
		for _, impl := range testedImpls() {
			// Misalign the buffer by off%16 bytes.
			buf := make([]byte, int(off%16)+len(data))[off%16:]
			copy(buf, data)
			if len(buf) > 0 {
				impl.decrypt(d, buf, buf, iv)
			}
			if !bytes.Equal(buf, want) {
				t.Fatalf("%s: in-place result differs from crypto/cipher", impl.name)
			}
		}
		got := make([]byte, len(data))
		d.DecryptCBC(got, data, iv)
		if !bytes.Equal(got, want) {
			t.Fatalf("DecryptCBC differs from crypto/cipher")
		}
	})
}

func BenchmarkDecryptCBC(b *testing.B) {
	key := make([]byte, 32)
	binary.BigEndian.PutUint64(key, 0x0123456789abcdef)
	iv := make([]byte, 16)
	for _, size := range []int{16 << 10, 1 << 20} {
		src := make([]byte, size)
		dst := make([]byte, size)
		d, err := New(key)
		if err != nil {
			b.Fatal(err)
		}
		for _, impl := range testedImpls() {
			b.Run(fmt.Sprintf("ours-%s/%dKiB", impl.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					impl.decrypt(d, dst, src, iv)
				}
			})
		}
		b.Run(fmt.Sprintf("ours/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				d.DecryptCBC(dst, src, iv)
			}
		})
		block, err := aes.NewCipher(key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("stdlib/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				cipher.NewCBCDecrypter(block, iv).CryptBlocks(dst, src)
			}
		})
	}
}
