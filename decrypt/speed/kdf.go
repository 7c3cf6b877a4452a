package speed

import (
	"bytes"
	stdpbkdf2 "crypto/pbkdf2"
	"crypto/sha256"
	"fmt"
	"time"

	"iosbackup/decrypt/pbkdf2"
)

// KDFImpl names a PBKDF2-HMAC-SHA256 implementation under test.
type KDFImpl int

const (
	// KDFOurs is decrypt/pbkdf2 (SHA-NI loop), what unlocking a backup runs.
	KDFOurs KDFImpl = iota
	// KDFStdlib is crypto/pbkdf2 with crypto/sha256.
	KDFStdlib
)

func (k KDFImpl) String() string {
	switch k {
	case KDFOurs:
		return "ours"
	case KDFStdlib:
		return "stdlib"
	}
	return fmt.Sprintf("kdf(%d)", int(k))
}

// RealSHA256Rounds is the DPIC of an iOS 10.2+ keybag: what a password unlock pays.
const RealSHA256Rounds = 10_000_000

// Fixed inputs shaped like a keybag's: a short password and a 20-byte DPSL salt.
var (
	kdfPassword = []byte("correct horse battery")
	kdfSalt     = []byte("iosbackup-bench-salt")
)

// DeriveKey runs impl over the fixed inputs with rounds iterations and returns the
// 32-byte key.
func DeriveKey(impl KDFImpl, rounds int) ([]byte, error) {
	switch impl {
	case KDFOurs:
		return pbkdf2.Key256(kdfPassword, kdfSalt, rounds, 32), nil
	case KDFStdlib:
		k, err := stdpbkdf2.Key(sha256.New, string(kdfPassword), kdfSalt, rounds, 32)
		if err != nil {
			return nil, fmt.Errorf("crypto/pbkdf2: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("unknown KDF implementation %d", int(impl))
}

// CheckKDF compares the implementations on a few round counts; run before any figure.
func CheckKDF() error {
	for _, rounds := range []int{1, 2, 1000, 4097} {
		want, err := DeriveKey(KDFStdlib, rounds)
		if err != nil {
			return err
		}
		got, err := DeriveKey(KDFOurs, rounds)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("PBKDF2-HMAC-SHA256 ours differs from crypto/pbkdf2 at %d rounds", rounds)
		}
	}
	return nil
}

// MeasureKDF times one derivation with rounds iterations. The cost is linear in the
// rounds (two SHA-256 compressions each), so a run of 1,000,000 times 10 predicts the
// 10,000,000 of a real keybag within a percent or so.
func MeasureKDF(impl KDFImpl, rounds int) (time.Duration, error) {
	start := time.Now()
	if _, err := DeriveKey(impl, rounds); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
