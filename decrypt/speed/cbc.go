package speed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"time"

	"iosbackup/decrypt/aescbc"
)

// CBCImpl names an AES-256-CBC decrypter under test.
type CBCImpl int

const (
	// CBCOurs is decrypt/aescbc, the multi-block AES-NI/VAES kernel the tool uses.
	CBCOurs CBCImpl = iota
	// CBCStdlib is crypto/cipher's CBC decrypter over crypto/aes.
	CBCStdlib
)

func (c CBCImpl) String() string {
	switch c {
	case CBCOurs:
		return "ours"
	case CBCStdlib:
		return "stdlib"
	}
	return fmt.Sprintf("cbc(%d)", int(c))
}

// NewCBC returns a function that decrypts src into dst (whole blocks, same length) in
// AES-CBC with key, continuing the chain from one call to the next as one long message
// would, starting from a zero IV as backup files do.
func NewCBC(impl CBCImpl, key []byte) (func(dst, src []byte), error) {
	switch impl {
	case CBCOurs:
		d, err := aescbc.New(key)
		if err != nil {
			return nil, err
		}
		var iv, next [aescbc.BlockSize]byte
		return func(dst, src []byte) {
			if len(src) == 0 {
				return
			}
			copy(next[:], src[len(src)-aescbc.BlockSize:]) // before an in-place call overwrites it
			d.DecryptCBC(dst, src, iv[:])
			iv = next
		}, nil
	case CBCStdlib:
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("crypto/aes: %w", err)
		}
		mode := cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize))
		return mode.CryptBlocks, nil
	}
	return nil, fmt.Errorf("unknown CBC implementation %d", int(impl))
}

// benchKey is a fixed AES-256 key: the speed of AES does not depend on the key.
var benchKey = []byte("iosbackup bench key, 32 bytes!!!")

// CheckCBC decrypts the same 1 MiB ciphertext (plus an odd tail) with every
// implementation, in one call and in uneven pieces, and compares the results with a
// plaintext encrypted by crypto/cipher. It is run before any figure is printed.
func CheckCBC() error {
	plain := make([]byte, 1<<20+16*37)
	fillPattern(plain, 1)
	block, err := aes.NewCipher(benchKey)
	if err != nil {
		return err
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(ct, plain)
	for _, impl := range []CBCImpl{CBCOurs, CBCStdlib} {
		dec, err := NewCBC(impl, benchKey)
		if err != nil {
			return err
		}
		got := make([]byte, len(ct))
		dec(got, ct)
		if !bytes.Equal(got, plain) {
			return fmt.Errorf("AES-CBC %s: decryption in one call differs from crypto/cipher's encryption", impl)
		}
		// Pieces of 16 B to 64 KiB, so every kernel width and tail path runs.
		if dec, err = NewCBC(impl, benchKey); err != nil {
			return err
		}
		clear(got)
		for off, n := 0, 16; off < len(ct); n = n*3%65536 + 16 {
			n -= n % 16
			end := min(off+n, len(ct))
			dec(got[off:end], ct[off:end])
			off = end
		}
		if !bytes.Equal(got, plain) {
			return fmt.Errorf("AES-CBC %s: decryption in pieces differs from crypto/cipher's encryption", impl)
		}
	}
	return nil
}

// MeasureCBC decrypts a buffer of size bytes (a multiple of 16) over and over for at
// least d and returns the throughput in MB/s (10^6 bytes per second, the unit of
// `openssl speed` and `go test -bench`). It runs on the calling goroutine: one core.
func MeasureCBC(impl CBCImpl, size int, d time.Duration) (float64, error) {
	if size <= 0 || size%aes.BlockSize != 0 {
		return 0, fmt.Errorf("buffer size %d: want a positive multiple of 16", size)
	}
	dec, err := NewCBC(impl, benchKey)
	if err != nil {
		return 0, err
	}
	src := make([]byte, size)
	fillPattern(src, 2)
	dst := make([]byte, size)
	dec(dst, src) // warm up: page faults, CPU frequency
	var bytesDone int64
	start := time.Now()
	var el time.Duration
	// At least one round, so a zero duration still measures something, and on until the
	// clock moves: Windows' clock ticks in steps of 0.5 to 15.6 ms, so a few rounds can
	// take "no time" there.
	for {
		for range 8 {
			dec(dst, src)
		}
		bytesDone += 8 * int64(size)
		if el = time.Since(start); el >= d && el > 0 {
			break
		}
	}
	return float64(bytesDone) / el.Seconds() / 1e6, nil
}

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
