package aescbc

import "encoding/binary"

// sbox is the AES S-box, derived at start-up from its definition in
// FIPS-197 section 5.1.1 (multiplicative inverse in GF(2^8) followed by an
// affine map) rather than pasted as a table. Only key expansion uses it.
var sbox = computeSbox()

func computeSbox() [256]byte {
	var s [256]byte
	for x := 0; x < 256; x++ {
		// x^254 is the inverse of x in GF(2^8) (and maps 0 to 0).
		inv := byte(1)
		for i := 0; i < 254; i++ {
			inv = gfMul(inv, byte(x))
		}
		b := inv
		s[x] = b ^ rotl8(b, 1) ^ rotl8(b, 2) ^ rotl8(b, 3) ^ rotl8(b, 4) ^ 0x63
	}
	return s
}

func rotl8(b byte, n uint) byte { return b<<n | b>>(8-n) }

// gfMul multiplies in GF(2^8) modulo the AES polynomial x^8+x^4+x^3+x+1.
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

func subWord(w uint32) uint32 {
	return uint32(sbox[w>>24])<<24 | uint32(sbox[w>>16&0xff])<<16 |
		uint32(sbox[w>>8&0xff])<<8 | uint32(sbox[w&0xff])
}

// expandEncryptionKey returns the 4*(rounds+1) words of the FIPS-197
// section 5.2 key schedule. len(key) is 16, 24 or 32.
func expandEncryptionKey(key []byte) []uint32 {
	nk := len(key) / 4
	rounds := nk + 6
	w := make([]uint32, 4*(rounds+1))
	for i := 0; i < nk; i++ {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := byte(1)
	for i := nk; i < len(w); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWord(t<<8|t>>24) ^ uint32(rcon)<<24
			rcon = gfMul(rcon, 2)
		case nk > 6 && i%nk == 4:
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	return w
}

// invMixMul holds, for each byte, its products by the InvMixColumns
// coefficients 9, 11, 13 and 14 in GF(2^8): a table built once from gfMul,
// because every file opened needs a decryption key schedule and the bitwise
// products made that a visible cost of listing 100,000 encrypted files.
var invMixMul = computeInvMixMul()

func computeInvMixMul() (t [256][4]byte) {
	for x := 0; x < 256; x++ {
		t[x] = [4]byte{gfMul(byte(x), 9), gfMul(byte(x), 11), gfMul(byte(x), 13), gfMul(byte(x), 14)}
	}
	return t
}

// invMixColumn applies InvMixColumns (FIPS-197 section 5.3.3) to one
// column held as a big-endian word (first state byte in the top bits).
func invMixColumn(w uint32) uint32 {
	const m9, m11, m13, m14 = 0, 1, 2, 3
	a0, a1, a2, a3 := &invMixMul[byte(w>>24)], &invMixMul[byte(w>>16)], &invMixMul[byte(w>>8)], &invMixMul[byte(w)]
	b0 := a0[m14] ^ a1[m11] ^ a2[m13] ^ a3[m9]
	b1 := a0[m9] ^ a1[m14] ^ a2[m11] ^ a3[m13]
	b2 := a0[m13] ^ a1[m9] ^ a2[m14] ^ a3[m11]
	b3 := a0[m11] ^ a1[m13] ^ a2[m9] ^ a3[m14]
	return uint32(b0)<<24 | uint32(b1)<<16 | uint32(b2)<<8 | uint32(b3)
}

// expandDecryptionKey writes into dst the round keys of the equivalent
// inverse cipher (FIPS-197 section 5.3.5) as bytes in state order: the
// encryption round keys in reverse order, all but the first and last passed
// through InvMixColumns. dst must hold (rounds+1)*16 bytes.
func expandDecryptionKey(dst []byte, key []byte) {
	enc := expandEncryptionKey(key)
	rounds := len(enc)/4 - 1
	for r := 0; r <= rounds; r++ {
		src := enc[4*(rounds-r) : 4*(rounds-r)+4]
		for c, w := range src {
			if r != 0 && r != rounds {
				w = invMixColumn(w)
			}
			binary.BigEndian.PutUint32(dst[16*r+4*c:], w)
		}
	}
}
