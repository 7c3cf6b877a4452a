package decrypt

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"fmt"

	fastpbkdf2 "iosbackup/decrypt/pbkdf2"
)

// KEKSize is the size of the key-encryption key DeriveKEK returns and Unlock
// takes: an AES-256 key.
const KEKSize = 32

// Bounds on the KDF work a keybag may ask for. They are checked before any
// round runs, because the counts come from the backup folder: a hostile or
// corrupt keybag asking for 4 billion rounds would otherwise hold a CPU for
// the better part of an hour before failing.
const (
	// MaxSHA256Rounds bounds DPIC (PBKDF2-HMAC-SHA256, iOS 10.2+). Every
	// real keybag seen uses 10,000,000 (about 2.6-3 s in Go on one modern
	// core); 10x that is ~30 s, the most an interactive unlock may cost if
	// Apple ever raises the count, and still refuses absurd values.
	MaxSHA256Rounds = 100_000_000

	// MaxSHA1Rounds bounds ITER (PBKDF2-HMAC-SHA1). Real keybags use
	// 10,000 both before and after iOS 10.2 (where the SHA-1 stage runs on
	// the output of the SHA-256 stage). SHA-1 rounds cost about half of a
	// SHA-256 round, so 10,000,000 (1000x the real value) is ~1.5 s.
	MaxSHA1Rounds = 10_000_000
)

// Salt sizes DeriveKEK accepts. Apple writes 20-byte SALT and DPSL; the range
// tolerates other writers while refusing an empty salt (almost certainly a
// damaged keybag) and absurdly long ones.
const (
	minSaltSize = 8
	maxSaltSize = 64
)

// CheckKDF reports whether DeriveKEK can run on this keybag: SALT and ITER
// present and within bounds, and on iOS 10.2+ keybags (DPSL present) DPSL and
// DPIC too. It runs no rounds, so a caller can refuse a keybag before asking
// for a password.
func (kb *Keybag) CheckKDF() error {
	if err := checkSalt("SALT", kb.Salt); err != nil {
		return err
	}
	if err := checkRounds("ITER", kb.Iter, MaxSHA1Rounds); err != nil {
		return err
	}
	if kb.DPSL == nil {
		if kb.DPIC != 0 {
			return fmt.Errorf("keybag KDF: DPIC is %d but DPSL is missing", kb.DPIC)
		}
		return nil
	}
	if err := checkSalt("DPSL", kb.DPSL); err != nil {
		return err
	}
	return checkRounds("DPIC", kb.DPIC, MaxSHA256Rounds)
}

func checkSalt(tag string, salt []byte) error {
	switch {
	case salt == nil:
		return fmt.Errorf("keybag KDF: %s is missing", tag)
	case len(salt) < minSaltSize || len(salt) > maxSaltSize:
		return fmt.Errorf("keybag KDF: %s is %d bytes, want %d to %d (20 in Apple's keybags)", tag, len(salt), minSaltSize, maxSaltSize)
	}
	return nil
}

func checkRounds(tag string, rounds, limit uint32) error {
	switch {
	case rounds == 0:
		return fmt.Errorf("keybag KDF: %s is 0 (missing or corrupt)", tag)
	case rounds > limit:
		return fmt.Errorf("keybag KDF: %s asks for %d rounds, more than the %d allowed (refused before running)", tag, rounds, limit)
	}
	return nil
}

// DeriveKEK turns the backup password into the key-encryption key that
// unwraps the class keys:
//
//	k   = password
//	k   = PBKDF2-HMAC-SHA256(k, DPSL, DPIC, 32)   if DPSL is present (iOS 10.2+)
//	kek = PBKDF2-HMAC-SHA1(k, SALT, ITER, 32)
//
// The parameters are checked first (see CheckKDF). On iOS 10.2+ this takes
// seconds: callers that unlock the same backup repeatedly should keep the KEK
// (it is what other tools call the "derived key") and call Unlock directly.
func (kb *Keybag) DeriveKEK(password []byte) ([]byte, error) {
	if err := kb.CheckKDF(); err != nil {
		return nil, err
	}
	k := password
	if kb.DPSL != nil {
		stretched, err := pbkdf2SHA256(password, kb.DPSL, int(kb.DPIC), KEKSize)
		if err != nil {
			return nil, err
		}
		defer clear(stretched)
		k = stretched
	}
	return pbkdf2SHA1(k, kb.Salt, int(kb.Iter), KEKSize)
}

// pbkdf2SHA256 and pbkdf2SHA1 are the only places that run the KDF.
//
// The SHA-256 stage is the slow one (10,000,000 rounds on iOS 10.2+): it runs in
// decrypt/pbkdf2, a dedicated loop of two SHA-NI compressions per round with the
// HMAC states precomputed, about twice as fast as crypto/pbkdf2. Rounds and size
// are bounded by the caller (CheckKDF) before we get here.
func pbkdf2SHA256(password, salt []byte, rounds, size int) ([]byte, error) {
	if rounds < 1 || size < 1 {
		return nil, fmt.Errorf("PBKDF2-HMAC-SHA256: %d rounds, %d bytes", rounds, size)
	}
	return fastpbkdf2.Key256(password, salt, rounds, size), nil
}

// pbkdf2SHA1 runs 10,000 rounds at most in real keybags: the standard library
// is fast enough. It takes the password as a string, a copy that cannot be wiped.

func pbkdf2SHA1(password, salt []byte, rounds, size int) ([]byte, error) {
	k, err := pbkdf2.Key(sha1.New, string(password), salt, rounds, size)
	if err != nil {
		return nil, fmt.Errorf("PBKDF2-HMAC-SHA1: %w", err)
	}
	return k, nil
}
