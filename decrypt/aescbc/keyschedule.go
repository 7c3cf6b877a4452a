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

// invMixColumn applies InvMixColumns (FIPS-197 section 5.3.3) to one
// column held as a big-endian word (first state byte in the top bits).
func invMixColumn(w uint32) uint32 {
	a0, a1, a2, a3 := byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	b0 := gfMul(a0, 14) ^ gfMul(a1, 11) ^ gfMul(a2, 13) ^ gfMul(a3, 9)
	b1 := gfMul(a0, 9) ^ gfMul(a1, 14) ^ gfMul(a2, 11) ^ gfMul(a3, 13)
	b2 := gfMul(a0, 13) ^ gfMul(a1, 9) ^ gfMul(a2, 14) ^ gfMul(a3, 11)
	b3 := gfMul(a0, 11) ^ gfMul(a1, 13) ^ gfMul(a2, 9) ^ gfMul(a3, 14)
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
