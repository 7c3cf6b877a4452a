package decrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrUnwrapIntegrity reports that an RFC 3394 unwrap did not recover the
// default integrity check value. With a keybag this almost always means a
// wrong key-encryption key, i.e. a wrong password; otherwise corrupted data.
var ErrUnwrapIntegrity = errors.New("AES key unwrap integrity check failed (wrong key or corrupted data)")

// keyWrapIV is the default initial value of RFC 3394 section 2.2.3.1.
var keyWrapIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// Wrap wraps key with kek using the AES key wrap algorithm of RFC 3394.
// kek is an AES key (16, 24 or 32 bytes); key must be a multiple of 8 bytes
// and at least 16 bytes long. The result is 8 bytes longer than key.
//
// Reading a backup never needs Wrap; it exists for the synthetic backup
// generator and for tests.
func Wrap(kek, key []byte) ([]byte, error) {
	if len(key) < 16 || len(key)%8 != 0 {
		return nil, fmt.Errorf("key wrap: key is %d bytes, want a multiple of 8 and at least 16", len(key))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key wrap: key-encryption key: %w", err)
	}
	return wrapWithBlock(block, key), nil
}

// Unwrap unwraps wrapped with kek using the AES key unwrap algorithm of
// RFC 3394. kek is an AES key (16, 24 or 32 bytes); wrapped must be a
// multiple of 8 bytes and at least 24 bytes long. When the integrity check
// fails the error wraps ErrUnwrapIntegrity and no key material is returned.
func Unwrap(kek, wrapped []byte) ([]byte, error) {
	if err := checkWrappedLen(wrapped); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key unwrap: key-encryption key: %w", err)
	}
	return unwrapWithBlock(block, wrapped)
}

func checkWrappedLen(wrapped []byte) error {
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return fmt.Errorf("key unwrap: wrapped key is %d bytes, want a multiple of 8 and at least 24", len(wrapped))
	}
	return nil
}

// wrapWithBlock is RFC 3394 section 2.2.1 (index-based form). key has been
// checked by the caller.
func wrapWithBlock(block cipher.Block, key []byte) []byte {
	n := len(key) / 8
	out := make([]byte, 8+len(key))
	copy(out[8:], key)
	var b [16]byte
	copy(b[:8], keyWrapIV[:]) // b[:8] carries A between steps
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			r := out[8*i : 8*i+8]
			copy(b[8:], r)
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(r, b[8:])
		}
	}
	copy(out[:8], b[:8])
	return out
}

// unwrapWithBlock is RFC 3394 section 2.2.2 (index-based form). The length
// of wrapped has been checked by the caller.
func unwrapWithBlock(block cipher.Block, wrapped []byte) ([]byte, error) {
	n := len(wrapped)/8 - 1
	out := make([]byte, 8*n)
	copy(out, wrapped[8:])
	var b [16]byte
	copy(b[:8], wrapped[:8]) // A
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			r := out[8*(i-1) : 8*i]
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(b[8:], r)
			block.Decrypt(b[:], b[:])
			copy(r, b[8:])
		}
	}
	ok := subtle.ConstantTimeCompare(b[:8], keyWrapIV[:]) == 1
	clear(b[:])
	if !ok {
		clear(out)
		return nil, fmt.Errorf("unwrap %d-byte wrapped key: %w", len(wrapped), ErrUnwrapIntegrity)
	}
	return out, nil
}
