package decrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
)

// ErrWrongPassword is wrapped by Unlock when no class key unwraps with the
// given key-encryption key: the password (or saved derived key) is wrong.
var ErrWrongPassword = errors.New("wrong password")

// ErrNoClassKey is wrapped by UnwrapFileKey when the keybag gave no key for
// the requested protection class.
var ErrNoClassKey = errors.New("no key for this protection class")

// numClasses is the number of distinct protection classes: CLAS is masked to
// 4 bits.
const numClasses = 16

// ClassKeys holds the unwrapped class keys of a keybag, by protection class.
// It is read-only after Unlock and safe for concurrent use.
type ClassKeys struct {
	keys   [numClasses][]byte
	blocks [numClasses]cipher.Block // AES ciphers of keys, made once for UnwrapFileKey

	problems []error
}

// Unlock unwraps, with kek (from DeriveKEK or a saved derived key), every
// class key whose WRAP has WrapPasscode set. Entries wrapped only with the
// device key cannot be opened off the device and are skipped.
//
// When none unwraps because of the integrity check, the error wraps
// ErrWrongPassword. When some unwrap and others do not, the keybag is
// damaged or tampered with: Unlock still returns the keys it got, and
// Problems lists the others, so that what can be read is read and the rest
// is reported.
func (kb *Keybag) Unlock(kek []byte) (*ClassKeys, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("unlock keybag: key-encryption key is %d bytes, want %d", len(kek), KEKSize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil { // cannot happen with 32 bytes
		return nil, fmt.Errorf("unlock keybag: %w", err)
	}
	ck := &ClassKeys{}
	var candidates, unwrapped, integrityFailures int
	for _, c := range kb.Classes {
		if c.Wrap&WrapPasscode == 0 {
			continue
		}
		candidates++
		if len(c.WrappedKey) != WrappedKeySize {
			ck.problems = append(ck.problems, fmt.Errorf("class %d: WPKY is %d bytes, want %d", c.Class, len(c.WrappedKey), WrappedKeySize))
			continue
		}
		key, err := unwrapWithBlock(block, c.WrappedKey)
		if err != nil {
			integrityFailures++
			ck.problems = append(ck.problems, fmt.Errorf("class %d: %w", c.Class, err))
			continue
		}
		if prev := ck.keys[c.Class]; prev != nil {
			// Two entries for one class: keep the first, report a conflict.
			if !bytes.Equal(prev, key) {
				ck.problems = append(ck.problems, fmt.Errorf("class %d: a second entry (CLAS %d) unwraps to a different key; keeping the first", c.Class, c.RawClass))
			}
			clear(key)
			continue
		}
		kblock, err := aes.NewCipher(key)
		if err != nil { // cannot happen: unwrapped keys are 32 bytes
			return nil, fmt.Errorf("unlock keybag: class %d: %w", c.Class, err)
		}
		ck.keys[c.Class] = key
		ck.blocks[c.Class] = kblock
		unwrapped++
	}
	switch {
	case candidates == 0:
		return nil, fmt.Errorf("unlock keybag: none of its %d class keys is wrapped with the backup password (WRAP & 2)", len(kb.Classes))
	case unwrapped > 0:
		return ck, nil
	case integrityFailures > 0:
		return nil, fmt.Errorf("unlock keybag: none of %d class keys unwraps with this key: %w", candidates, ErrWrongPassword)
	default:
		return nil, fmt.Errorf("unlock keybag: no usable class key: %w", errors.Join(ck.problems...))
	}
}

// Key returns the key of protection class, if the keybag gave one. The
// slice is the ClassKeys' own: do not modify it.
func (ck *ClassKeys) Key(class uint32) ([]byte, bool) {
	if class >= numClasses || ck.keys[class] == nil {
		return nil, false
	}
	return ck.keys[class], true
}

// Classes lists, in increasing order, the protection classes that have a key.
func (ck *ClassKeys) Classes() []uint32 {
	var out []uint32
	for c, k := range ck.keys {
		if k != nil {
			out = append(out, uint32(c))
		}
	}
	return out
}

// Problems lists the class key entries Unlock could not use although it
// succeeded with others (integrity failures, bad WPKY sizes, conflicting
// duplicates). Empty for a sound keybag.
func (ck *ClassKeys) Problems() []error {
	return append([]error(nil), ck.problems...)
}

// UnwrapFileKey unwraps the 40-byte wrapped key of a file (the bytes after
// the 4-byte class prefix of its EncryptionKey, or a ManifestKey) with the
// key of protection class, and returns the 32-byte AES-256 file key. Which
// class to use (ProtectionClass or the prefix) is the caller's decision.
func (ck *ClassKeys) UnwrapFileKey(class uint32, wrapped []byte) ([]byte, error) {
	if class >= numClasses || ck.blocks[class] == nil {
		return nil, fmt.Errorf("unwrap file key: protection class %d (keybag has %v): %w", class, ck.Classes(), ErrNoClassKey)
	}
	if len(wrapped) != WrappedKeySize {
		return nil, fmt.Errorf("unwrap file key: wrapped key is %d bytes, want %d", len(wrapped), WrappedKeySize)
	}
	key, err := unwrapWithBlock(ck.blocks[class], wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap file key with class %d key: %w", class, err)
	}
	return key, nil
}
