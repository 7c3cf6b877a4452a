package gen

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
)

// contentKind says how a file's bytes are produced.
type contentKind uint8

const (
	contentNone    contentKind = iota // directories, symlinks
	contentLiteral                    // data is the whole content
	contentRandom                     // data (a fixed header), then keystream bytes
	contentText                       // data, then keystream mapped to text characters
)

// contentSpec regenerates a file's bytes on demand, so that the Truth of a million
// files or of a multi-GB file costs a few dozen bytes per entry, not the contents.
type contentSpec struct {
	kind contentKind
	seed uint64
	size int64  // total length, header included
	data []byte // literal content or header; shared, never modified
}

func literal(b []byte) contentSpec {
	return contentSpec{kind: contentLiteral, size: int64(len(b)), data: b}
}

func generated(kind contentKind, seed uint64, size int64, header []byte) contentSpec {
	if int64(len(header)) > size {
		header = header[:size]
	}
	return contentSpec{kind: kind, seed: seed, size: size, data: header}
}

func (c contentSpec) equal(o contentSpec) bool {
	return c.kind == o.kind && c.seed == o.seed && c.size == o.size && bytes.Equal(c.data, o.data)
}

func (c contentSpec) reader() io.Reader {
	switch c.kind {
	case contentLiteral:
		return bytes.NewReader(c.data)
	case contentRandom, contentText:
		rest := c.size - int64(len(c.data))
		return io.MultiReader(bytes.NewReader(c.data), io.LimitReader(newKeystream(c.seed, c.kind == contentText), rest))
	}
	return bytes.NewReader(nil)
}

// keystream is an endless deterministic byte stream: AES-128-CTR over zeros, keyed by
// the seed. It runs at several GB/s with AES-NI, which matters for multi-GB files.
type keystream struct {
	ctr  cipher.Stream
	text bool
}

func newKeystream(seed uint64, text bool) *keystream {
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:8], mix64(seed))
	binary.LittleEndian.PutUint64(key[8:], mix64(seed^0x9e3779b97f4a7c15))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // unreachable: the key length is fixed at 16
	}
	var iv [aes.BlockSize]byte
	return &keystream{ctr: cipher.NewCTR(block, iv[:]), text: text}
}

// textAlphabet gives generated text files a plausible look (letters, spaces, line
// breaks) at the cost of one table look-up per byte.
const textAlphabet = "etaoinshrdlucmfwypvbgkjqxz ETAOINSHRDLU etaoinshrdlu,.\n 01234567"

// The mapping takes 6 bits per byte: the alphabet must hold exactly 64 characters
// (either constant overflows, failing the build, otherwise).
const (
	_ = uint(len(textAlphabet) - 64)
	_ = uint(64 - len(textAlphabet))
)

func (k *keystream) Read(p []byte) (int, error) {
	clear(p)
	k.ctr.XORKeyStream(p, p)
	if k.text {
		for i, b := range p {
			p[i] = textAlphabet[b&63]
		}
	}
	return len(p), nil
}

// mix64 is the SplitMix64 finalizer: it spreads seeds that differ in one bit.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
