package pbkdf2

import (
	"bytes"
	stdpbkdf2 "crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
)

// iterateFuncs are the iteration loops this machine can run.
func iterateFuncs() map[string]func(inner, outer, u *[8]uint32, n int) [8]uint32 {
	fns := map[string]func(inner, outer, u *[8]uint32, n int) [8]uint32{
		"generic": iterateWithGeneric,
	}
	if useAsm {
		fns[asmName] = iterateWithAsm
		// The Go loop around the single-block assembly, to test
		// blockAsm on the real PBKDF2 blocks too.
		fns[asmName+"-block"] = func(inner, outer, u *[8]uint32, n int) [8]uint32 {
			return iterateGeneric(inner, outer, u, n, blockAsm)
		}
	}
	return fns
}

func stdlibKey(t testing.TB, password, salt []byte, iter, keyLen int) []byte {
	t.Helper()
	want, err := stdpbkdf2.Key(sha256.New, string(password), salt, iter, keyLen)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// TestRFC7914Vectors uses the PBKDF2-HMAC-SHA256 test vectors of RFC 7914
// section 11.
func TestRFC7914Vectors(t *testing.T) {
	vectors := []struct {
		password, salt string
		iter           int
		want           string
	}{
		{"passwd", "salt", 1,
			"55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc" +
				"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
		{"Password", "NaCl", 80000,
			"4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56" +
				"a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"},
	}
	for _, v := range vectors {
		want, err := hex.DecodeString(v.want)
		if err != nil {
			t.Fatal(err)
		}
		for name, fn := range iterateFuncs() {
			got := key256([]byte(v.password), []byte(v.salt), v.iter, len(want), fn)
			if !bytes.Equal(got, want) {
				t.Errorf("%s P=%q S=%q c=%d: got %x, want %x", name, v.password, v.salt, v.iter, got, want)
			}
		}
		if got := Key256([]byte(v.password), []byte(v.salt), v.iter, len(want)); !bytes.Equal(got, want) {
			t.Errorf("Key256 P=%q S=%q c=%d: got %x, want %x", v.password, v.salt, v.iter, got, want)
		}
	}
}

func TestMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fns := iterateFuncs()
	passwordLens := []int{0, 1, 16, 31, 32, 55, 63, 64, 65, 100, 128, 200}
	// Salt plus the 4-byte block counter around the padding boundaries
	// of the first HMAC hash (55/56 bytes in a block).
	saltLens := []int{0, 1, 20, 51, 52, 59, 60, 64, 115, 116, 124, 200, 1000}
	for i := 0; i < 150; i++ {
		password := make([]byte, passwordLens[i%len(passwordLens)])
		salt := make([]byte, r.IntN(100))
		if i%2 == 0 {
			salt = make([]byte, saltLens[(i/2)%len(saltLens)])
		}
		for j := range password {
			password[j] = byte(r.Uint32())
		}
		for j := range salt {
			salt[j] = byte(r.Uint32())
		}
		iter := 1 + r.IntN(3000)
		if i < 10 {
			iter = i + 1 // the smallest counts, where off-by-one errors live
		}
		keyLen := 1 + r.IntN(100)
		want := stdlibKey(t, password, salt, iter, keyLen)
		for name, fn := range fns {
			if got := key256(password, salt, iter, keyLen, fn); !bytes.Equal(got, want) {
				t.Fatalf("%s: password %d bytes, salt %d bytes, iter %d, keyLen %d: got %x, want %x",
					name, len(password), len(salt), iter, keyLen, got, want)
			}
		}
	}
}

func TestEdgeArguments(t *testing.T) {
	if got := Key256([]byte("p"), []byte("s"), 1, 0); got != nil {
		t.Errorf("keyLen 0: got %x, want nil", got)
	}
	if got := Key256([]byte("p"), []byte("s"), 1, -5); got != nil {
		t.Errorf("keyLen -5: got %x, want nil", got)
	}
	// iter below 1 counts as 1, as in crypto/pbkdf2.
	want := stdlibKey(t, []byte("p"), []byte("s"), 1, 32)
	for _, iter := range []int{0, -1} {
		if got := Key256([]byte("p"), []byte("s"), iter, 32); !bytes.Equal(got, want) {
			t.Errorf("iter %d: got %x, want %x", iter, got, want)
		}
	}
}

// TestBlockGenericIsSHA256 checks the portable compression function on its
// own by hashing messages of several lengths and comparing with
// crypto/sha256.
func TestBlockGenericIsSHA256(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 1000} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(r.Uint32())
		}
		// FIPS 180-4 section 5.1.1 padding.
		padded := append(bytes.Clone(msg), 0x80)
		for len(padded)%64 != 56 {
			padded = append(padded, 0)
		}
		padded = binary.BigEndian.AppendUint64(padded, uint64(n)*8)
		h := sha256IV
		for off := 0; off < len(padded); off += 64 {
			var m [16]uint32
			for i := range m {
				m[i] = binary.BigEndian.Uint32(padded[off+4*i:])
			}
			blockGeneric(&h, &m)
		}
		var got []byte
		for _, w := range h {
			got = binary.BigEndian.AppendUint32(got, w)
		}
		if want := sha256.Sum256(msg); !bytes.Equal(got, want[:]) {
			t.Errorf("%d-byte message: got %x, want %x", n, got, want)
		}
	}
}

// TestBlockAsmMatchesGeneric compares the two compression functions on
// random states and blocks.
func TestBlockAsmMatchesGeneric(t *testing.T) {
	if !useAsm {
		t.Skip("no SHA-256 assembly for this CPU (or purego build)")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		var h [8]uint32
		var m [16]uint32
		for j := range h {
			h[j] = r.Uint32()
		}
		for j := range m {
			m[j] = r.Uint32()
		}
		h1, h2 := h, h
		m1 := m
		blockGeneric(&h1, &m)
		blockAsm(&h2, &m1)
		if h1 != h2 {
			t.Fatalf("state %08x block %08x: %s %08x, generic %08x", h, m, asmName, h2, h1)
		}
		if m1 != m {
			t.Fatalf("blockAsm modified its message block")
		}
	}
}

// TestIterateMatchesGeneric compares the iteration loops directly on
// random HMAC states, including n = 1 and 2.
func TestIterateMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	fns := iterateFuncs()
	for i := 0; i < 50; i++ {
		var inner, outer, u [8]uint32
		for j := range u {
			inner[j], outer[j], u[j] = r.Uint32(), r.Uint32(), r.Uint32()
		}
		n := i % 7
		if i >= 7 {
			n = r.IntN(500)
		}
		want := iterateGeneric(&inner, &outer, &u, n, blockGeneric)
		for name, fn := range fns {
			uBefore := u
			if got := fn(&inner, &outer, &u, n); got != want {
				t.Fatalf("%s n=%d: got %08x, want %08x", name, n, got, want)
			}
			if u != uBefore {
				t.Fatalf("%s modified u", name)
			}
		}
	}
}

func FuzzKey256(f *testing.F) {
	f.Add([]byte("passwd"), []byte("salt"), uint16(1), uint8(64))
	f.Add(bytes.Repeat([]byte{'x'}, 65), []byte{}, uint16(3), uint8(1))
	f.Add([]byte{}, bytes.Repeat([]byte{0}, 100), uint16(40), uint8(33))
	f.Fuzz(func(t *testing.T, password, salt []byte, iter uint16, keyLen uint8) {
		n := int(iter%2000) + 1
		k := int(keyLen%100) + 1
		want := stdlibKey(t, password, salt, n, k)
		for name, fn := range iterateFuncs() {
			if got := key256(password, salt, n, k, fn); !bytes.Equal(got, want) {
				t.Fatalf("%s: got %x, want %x", name, got, want)
			}
		}
	})
}

func BenchmarkKey256(b *testing.B) {
	const rounds = 1_000_000
	password := []byte("correct horse battery staple")
	salt := bytes.Repeat([]byte{0xa5}, 20)
	for name, fn := range iterateFuncs() {
		b.Run(fmt.Sprintf("ours-%s/1M", name), func(b *testing.B) {
			for b.Loop() {
				key256(password, salt, rounds, 32, fn)
			}
		})
	}
	b.Run("ours/1M", func(b *testing.B) {
		for b.Loop() {
			Key256(password, salt, rounds, 32)
		}
	})
	b.Run("stdlib/1M", func(b *testing.B) {
		for b.Loop() {
			if _, err := stdpbkdf2.Key(sha256.New, string(password), salt, rounds, 32); err != nil {
				b.Fatal(err)
			}
		}
	})
}
