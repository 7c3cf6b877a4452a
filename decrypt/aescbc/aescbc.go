// Package aescbc is a fast AES-CBC decrypter for bulk file contents.
//
// iOS backups encrypt every file with AES-256-CBC. Go's crypto/cipher CBC
// decrypter runs the block cipher one block at a time, which leaves most of
// the AES hardware idle: every AESDEC has a latency of several cycles but
// the CPU can start one or two per cycle. CBC decryption has no dependency
// between blocks (P[i] = D(C[i]) xor C[i-1]), so this package decrypts many
// blocks at once with interleaved AES-NI (amd64, optionally VAES on 256- or
// 512-bit registers) or ARMv8 AES (arm64) instructions. Other architectures,
// CPUs without AES instructions and builds with the purego tag use crypto/aes
// one block at a time.
package aescbc

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"unsafe"
)

// BlockSize is the AES block size in bytes.
const BlockSize = 16

// maxRounds is the number of rounds of AES-256, the largest key size.
const maxRounds = 14

// Decrypter decrypts AES-CBC with one fixed key. It holds only read-only
// state after New, so one Decrypter may be used by many goroutines at once.
type Decrypter struct {
	// dec holds the round keys of the "equivalent inverse cipher" of
	// FIPS-197 section 5.3.5, in the byte order of the AES state: dec[0] is
	// the last encryption round key, dec[rounds] the first, and the keys in
	// between went through InvMixColumns. This is the layout AESDEC
	// (amd64) and AESD+AESIMC (arm64) expect.
	dec [(maxRounds + 1) * BlockSize]byte
	// rounds is 10, 12 or 14 for AES-128, -192 and -256.
	rounds int
	// block is crypto/aes, used by the portable path.
	block cipher.Block
}

// New returns a Decrypter for key, which must be 16, 24 or 32 bytes long
// (AES-128, AES-192 or AES-256).
func New(key []byte) (*Decrypter, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("aescbc: invalid key length %d (want 16, 24 or 32)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aescbc: %w", err)
	}
	d := &Decrypter{block: block, rounds: len(key)/4 + 6}
	expandDecryptionKey(d.dec[:], key)
	return d, nil
}

// DecryptCBC decrypts src into dst in CBC mode. iv is the 16-byte block
// that precedes src in the ciphertext: the initialization vector for the
// start of a message, or the previous ciphertext block when decrypting from
// the middle (random access). len(src) must be a multiple of 16 and dst must
// be at least as long. dst and src may be the same slice (decryption in
// place) but must not otherwise overlap.
//
// Like crypto/cipher's CBC decrypter, DecryptCBC panics when these rules on
// lengths and overlap are broken: they are programming errors, not
// properties of the data. Callers that take lengths from untrusted input
// must check them first.
func (d *Decrypter) DecryptCBC(dst, src, iv []byte) {
	if len(iv) != BlockSize {
		panic("aescbc: IV length must equal block size")
	}
	if len(src)%BlockSize != 0 {
		panic("aescbc: input not full blocks")
	}
	if len(dst) < len(src) {
		panic("aescbc: output smaller than input")
	}
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	if inexactOverlap(dst, src) {
		panic("aescbc: invalid buffer overlap")
	}
	defaultImpl.decrypt(d, dst, src, iv)
}

// implementation is one way to decrypt whole blocks. dst and src have the
// same non-zero length, a multiple of 16, and are identical or disjoint.
type implementation struct {
	name      string
	available bool
	decrypt   func(d *Decrypter, dst, src, iv []byte)
}

// genericImpl is always compiled so tests can compare the assembly paths
// with it on the same machine.
var genericImpl = implementation{name: "generic", available: true, decrypt: decryptGeneric}

// defaultImpl is the fastest implementation this CPU supports.
var defaultImpl = pickDefault()

func pickDefault() implementation {
	for _, impl := range implementations {
		if impl.available {
			return impl
		}
	}
	return genericImpl
}

// decryptGeneric decrypts with crypto/aes one block at a time. It walks
// from the last block to the first so that, in place, each C[i-1] is still
// intact when block i needs it.
func decryptGeneric(d *Decrypter, dst, src, iv []byte) {
	var prev [BlockSize]byte
	for end := len(src); end > 0; end -= BlockSize {
		start := end - BlockSize
		if start == 0 {
			copy(prev[:], iv)
		} else {
			copy(prev[:], src[start-BlockSize:start])
		}
		d.block.Decrypt(dst[start:end], src[start:end])
		for i := range prev {
			dst[start+i] ^= prev[i]
		}
	}
}

// inexactOverlap reports whether x and y share memory without starting at
// the same address. Both are non-empty.
func inexactOverlap(x, y []byte) bool {
	if &x[0] == &y[0] {
		return false
	}
	xs := uintptr(unsafe.Pointer(&x[0]))
	ys := uintptr(unsafe.Pointer(&y[0]))
	return xs < ys+uintptr(len(y)) && ys < xs+uintptr(len(x))
}
