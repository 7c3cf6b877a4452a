package gen

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// EncryptCBC streams src to dst as AES-256-CBC with a zero IV and PKCS#7 padding, the
// way iOS encrypts backup files and Manifest.db. buf must hold at least one chunk plus
// one block; it returns the number of bytes written (a multiple of 16, at least 16).
func EncryptCBC(dst io.Writer, src io.Reader, key, buf []byte) (int64, error) {
	if len(buf) < 2*aes.BlockSize {
		return 0, fmt.Errorf("encrypt: buffer of %d bytes is too small", len(buf))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return 0, fmt.Errorf("encrypt: %w", err)
	}
	var iv [aes.BlockSize]byte
	cbc := cipher.NewCBCEncrypter(block, iv[:]) // keeps the chaining state across calls
	chunk := (len(buf) - aes.BlockSize) / aes.BlockSize * aes.BlockSize
	var written int64
	for {
		n, err := io.ReadFull(src, buf[:chunk])
		last := false
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		default:
			return written, err
		}
		if last {
			// PKCS#7: 1 to 16 bytes, each holding the pad length, so a plaintext whose
			// length is a multiple of 16 (or empty) gets a whole block of 16s.
			pad := aes.BlockSize - n%aes.BlockSize
			for i := range pad {
				buf[n+i] = byte(pad)
			}
			n += pad
		}
		cbc.CryptBlocks(buf[:n], buf[:n])
		m, err := dst.Write(buf[:n])
		written += int64(m)
		if err != nil {
			return written, err
		}
		if last {
			return written, nil
		}
	}
}

// encryptCBCInPlace pads the n plaintext bytes at the start of buf and encrypts them
// in place (AES-256-CBC, zero IV, PKCS#7); buf must have room for the padding.
func encryptCBCInPlace(buf []byte, n int, key []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	pad := aes.BlockSize - n%aes.BlockSize
	if n+pad > len(buf) {
		return nil, fmt.Errorf("encrypt: %d bytes do not fit a %d-byte buffer with padding", n, len(buf))
	}
	for i := range pad {
		buf[n+i] = byte(pad)
	}
	data := buf[:n+pad]
	var iv [aes.BlockSize]byte
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(data, data)
	return data, nil
}
