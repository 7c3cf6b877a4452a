// Package pbkdf2 is PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2) tuned for
// the iOS 10.2+ keybag, whose password key takes 10,000,000 iterations.
//
// Each iteration computes U_n = HMAC(P, U_(n-1)) on a 32-byte U. With the
// HMAC inner and outer states precomputed once per password, that is
// exactly two SHA-256 compression-function calls on fixed, pre-padded
// 64-byte blocks: no hash.Hash, no buffering, no length bookkeeping, no
// allocation. On amd64 CPUs with the SHA extensions and on arm64 CPUs with
// the ARMv8 SHA-256 instructions the whole iteration loop runs in assembly
// with the states in registers. Elsewhere Key256 calls crypto/pbkdf2,
// which is faster than a portable Go loop because crypto/sha256 has
// assembly for more CPUs than this package.
package pbkdf2

import (
	stdpbkdf2 "crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
)

const (
	blockSize  = 64 // SHA-256 message block
	digestSize = 32 // SHA-256 output
)

// Key256 derives keyLen bytes from password and salt with PBKDF2 using
// HMAC-SHA256 and iter iterations. It returns the same bytes as
// crypto/pbkdf2.Key(sha256.New, ...). As in crypto/pbkdf2, iter values
// below 1 count as 1. keyLen values below 1 yield nil; keyLen is not
// otherwise bounded, so callers that take it from untrusted data must
// bound it (the keybag always asks for 32).
func Key256(password, salt []byte, iter, keyLen int) []byte {
	if keyLen <= 0 {
		return nil
	}
	if iter < 1 {
		iter = 1
	}
	if useAsm {
		return key256(password, salt, iter, keyLen, iterateWithAsm)
	}
	if dk, err := stdpbkdf2.Key(sha256.New, string(password), salt, iter, keyLen); err == nil {
		return dk
	}
	// crypto/pbkdf2 refuses short salts and keys in FIPS 140-only mode;
	// the keybag's parameters are what they are, so derive the key anyway
	// (key256 does not use crypto/hmac, which has the same restriction).
	return key256(password, salt, iter, keyLen, iterateWithGeneric)
}

// iterateWithAsm runs n PBKDF2 iterations from U = *u with the assembly
// loop and returns T.
func iterateWithAsm(inner, outer, u *[8]uint32, n int) [8]uint32 {
	if n <= 0 {
		return *u
	}
	var t [8]uint32
	iterateAsm(inner, outer, u, n, &t)
	return t
}

// iterateWithGeneric runs n PBKDF2 iterations from U = *u in Go.
func iterateWithGeneric(inner, outer, u *[8]uint32, n int) [8]uint32 {
	return iterateGeneric(inner, outer, u, n, blockGeneric)
}

// key256 derives the key with the given iteration loop. Key256 picks the
// loop; tests run each one on the same machine.
func key256(password, salt []byte, iter, keyLen int, iterate func(inner, outer, u *[8]uint32, n int) [8]uint32) []byte {
	if keyLen <= 0 {
		return nil
	}
	if iter < 1 {
		iter = 1
	}
	inner, outer := hmacStates(password)

	// U_1 = HMAC(P, S || INT(i)) is the only hash over a message of
	// arbitrary length; U_2..U_iter take the fast path.
	msg := make([]byte, len(salt)+4)
	copy(msg, salt)
	numBlocks := (keyLen + digestSize - 1) / digestSize
	dk := make([]byte, 0, numBlocks*digestSize)
	for i := 1; i <= numBlocks; i++ {
		binary.BigEndian.PutUint32(msg[len(salt):], uint32(i))
		innerSum := finishHash(inner, msg)
		u := finishHash(outer, wordsToBytes(&innerSum))
		t := iterate(&inner, &outer, &u, iter-1)
		dk = append(dk, wordsToBytes(&t)...)
	}
	return dk[:keyLen]
}

// finishHash completes a SHA-256 hash whose first 64-byte block (an HMAC
// key block) is already absorbed in h, over msg, with the padding of
// FIPS 180-4 section 5.1.1, and returns the digest as words.
func finishHash(h [8]uint32, msg []byte) [8]uint32 {
	totalBits := uint64(blockSize+len(msg)) * 8
	var m [16]uint32
	for ; len(msg) >= blockSize; msg = msg[blockSize:] {
		bytesToWords(&m, msg)
		blockGeneric(&h, &m)
	}
	var last [blockSize]byte
	n := copy(last[:], msg)
	last[n] = 0x80
	if n >= blockSize-8 { // no room for the length: one more block
		bytesToWords(&m, last[:])
		blockGeneric(&h, &m)
		last = [blockSize]byte{}
	}
	binary.BigEndian.PutUint64(last[blockSize-8:], totalBits)
	bytesToWords(&m, last[:])
	blockGeneric(&h, &m)
	return h
}

func bytesToWords(m *[16]uint32, b []byte) {
	for i := range m {
		m[i] = binary.BigEndian.Uint32(b[4*i:])
	}
}

func wordsToBytes(w *[8]uint32) []byte {
	b := make([]byte, 0, digestSize)
	for _, v := range w {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// hmacStates returns the SHA-256 states after absorbing the HMAC key XOR
// ipad (inner) and XOR opad (outer), RFC 2104. Keys longer than a block
// are hashed first.
func hmacStates(password []byte) (inner, outer [8]uint32) {
	var key [blockSize]byte
	if len(password) > blockSize {
		sum := sha256.Sum256(password)
		copy(key[:], sum[:])
	} else {
		copy(key[:], password)
	}
	var ipad, opad [16]uint32
	bytesToWords(&ipad, key[:])
	for i := range ipad {
		opad[i] = ipad[i] ^ 0x5c5c5c5c
		ipad[i] ^= 0x36363636
	}
	inner, outer = sha256IV, sha256IV
	blockGeneric(&inner, &ipad)
	blockGeneric(&outer, &opad)
	return inner, outer
}

// paddedDigestBlock returns the message block that follows a 64-byte HMAC
// key block when hashing one 32-byte digest: the digest (words 0-7, left
// zero here), the 0x80 end marker, zeros and the total length in bits,
// (64+32)*8. Both hashes of every PBKDF2 iteration use this layout.
func paddedDigestBlock() [16]uint32 {
	var m [16]uint32
	m[8] = 0x80000000
	m[15] = (blockSize + digestSize) * 8
	return m
}

// iterateGeneric runs n iterations starting from U = *u and returns
// T = U XOR U_next XOR ... (n+1 terms), calling block for each of the two
// compressions per iteration.
func iterateGeneric(inner, outer *[8]uint32, u *[8]uint32, n int, block func(h *[8]uint32, m *[16]uint32)) [8]uint32 {
	t := *u
	cur := *u
	m := paddedDigestBlock()
	for ; n > 0; n-- {
		copy(m[:8], cur[:])
		s := *inner
		block(&s, &m) // inner hash: H(K^ipad || U)
		copy(m[:8], s[:])
		cur = *outer
		block(&cur, &m) // outer hash: H(K^opad || inner)
		for i := range t {
			t[i] ^= cur[i]
		}
	}
	return t
}
