package gen

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"golang.org/x/crypto/pbkdf2"

	"iosbackup/decrypt"
)

// Protection classes present in a backup keybag, in the order Apple writes them.
var keybagClasses = []uint32{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}

// classWrap is the WRAP value Apple gives each class entry: every class is wrapped
// with the password (bit 2); some are also marked device-wrapped (bit 1).
func classWrap(class uint32) uint32 {
	switch class {
	case 11, 10, 9, 5:
		return 3
	}
	return 2
}

// keybag is a generated BackupKeyBag and the secrets behind it.
type keybag struct {
	raw       []byte
	kek       []byte            // nil for an unencrypted backup
	classKeys map[uint32][]byte // unwrapped class keys, by class
}

// secretSource gives the keybag its salts, UUIDs and keys. It is seeded from the
// Options seed alone (not the revision), so every revision of a device shares one
// keybag, as a device's successive backups do.
func secretSource(seed int64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], uint64(seed))
	copy(s[8:], "iosbackup gen keybag secrets")
	return rand.NewChaCha8(sha256.Sum256(s[:]))
}

func randomBytes(src *rand.ChaCha8, n int) []byte {
	b := make([]byte, n)
	src.Read(b) // never fails
	return b
}

// buildKeybag writes a keybag in Apple's TLV layout. iOS 10.2+ (withDP) keybags are
// VERS 5 with the DPWT/DPIC/DPSL stage; older ones are VERS 3 without it. For an
// unencrypted backup the WPKY values are random bytes: hosts write a keybag there
// too, but nothing can or should unwrap it.
func buildKeybag(src *rand.ChaCha8, encrypted bool, password string, withDP bool, sha256Rounds, sha1Rounds int) (*keybag, error) {
	kb := &keybag{classKeys: make(map[uint32][]byte)}
	salt := randomBytes(src, 20)
	dpsl := randomBytes(src, 20)
	if encrypted {
		k := []byte(password)
		if withDP {
			k = pbkdf2.Key(k, dpsl, sha256Rounds, 32, sha256.New)
		}
		kb.kek = pbkdf2.Key(k, salt, sha1Rounds, 32, sha1.New)
	}

	var w tlvWriter
	version := uint32(3)
	if withDP {
		version = 5
	}
	w.u32("VERS", version)
	w.u32("TYPE", 1) // backup keybag
	w.bytes("UUID", randomBytes(src, 16))
	w.bytes("HMCK", randomBytes(src, 40))
	w.u32("WRAP", 0)
	w.bytes("SALT", salt)
	w.u32("ITER", uint32(sha1Rounds))
	if withDP {
		w.u32("DPWT", 1)
		w.u32("DPIC", uint32(sha256Rounds))
		w.bytes("DPSL", dpsl)
	}
	for _, class := range keybagClasses {
		key := randomBytes(src, 32)
		wrapped := randomBytes(src, 40)
		if encrypted {
			var err error
			if wrapped, err = decrypt.Wrap(kb.kek, key); err != nil {
				return nil, fmt.Errorf("wrap class %d key: %w", class, err)
			}
			kb.classKeys[class] = key
		}
		w.bytes("UUID", randomBytes(src, 16))
		w.u32("CLAS", class)
		w.u32("WRAP", classWrap(class))
		w.u32("KTYP", 0)
		w.bytes("WPKY", wrapped)
	}
	kb.raw = w.buf
	return kb, nil
}

type tlvWriter struct{ buf []byte }

func (w *tlvWriter) bytes(tag string, v []byte) {
	w.buf = append(w.buf, tag...)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(v)))
	w.buf = append(w.buf, v...)
}

func (w *tlvWriter) u32(tag string, v uint32) {
	w.bytes(tag, binary.BigEndian.AppendUint32(nil, v))
}
