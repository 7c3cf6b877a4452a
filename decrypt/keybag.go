package decrypt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxKeybagSize bounds the keybag ParseKeybag accepts. Real backup keybags
// are about 1.4 KB (a dozen class entries of ~100 bytes); 64 KiB leaves room
// for unknown future tags while refusing a hostile multi-megabyte blob.
const MaxKeybagSize = 64 << 10

// MaxClassEntries bounds the class key entries of a keybag. iOS defines
// protection classes 1 to 11 (CLAS is masked to 4 bits, so at most 16
// distinct classes exist); 64 leaves room for duplicates without letting a
// hostile keybag make thousands of entries.
const MaxClassEntries = 64

// WrappedKeySize is the size of a wrapped 256-bit class or file key: RFC 3394
// adds one 8-byte block to the 32-byte key.
const WrappedKeySize = 40

// Wrap flags of a class key entry (its WRAP tag).
const (
	WrapDevice   = 1 // wrapped with the device's UID key: not usable off the device
	WrapPasscode = 2 // wrapped with the key derived from the backup password
)

// ErrBadKeybag is wrapped by every error ParseKeybag returns.
var ErrBadKeybag = errors.New("malformed keybag")

// Keybag is a parsed BackupKeyBag: header fields, then one ClassKey per class
// entry, in file order. Byte slices are copies, not views of the input.
//
// A nil slice means the tag was absent; DPSL != nil marks an iOS 10.2+ keybag
// whose password goes through the extra PBKDF2-HMAC-SHA256 stage.
type Keybag struct {
	Version uint32 // VERS
	Type    uint32 // TYPE (1 = backup)
	Wrap    uint32 // header WRAP
	UUID    []byte // header UUID
	HMCK    []byte // HMCK
	Salt    []byte // SALT, for PBKDF2-HMAC-SHA1
	Iter    uint32 // ITER, PBKDF2-HMAC-SHA1 rounds
	DPWT    uint32 // DPWT (iOS 10.2+)
	DPIC    uint32 // DPIC, PBKDF2-HMAC-SHA256 rounds (iOS 10.2+)
	DPSL    []byte // DPSL, salt of the SHA-256 stage (iOS 10.2+)

	Classes []ClassKey

	// UnknownTags lists, in order, the tags that were skipped because this
	// package does not know them, so a caller can report them.
	UnknownTags []string
}

// ClassKey is one class key entry of a keybag.
type ClassKey struct {
	Class      uint32 // protection class: CLAS & 0xF
	RawClass   uint32 // CLAS as stored (old keybags carry flags above bit 3)
	Wrap       uint32 // WRAP: WrapDevice | WrapPasscode
	KeyType    uint32 // KTYP
	UUID       []byte // UUID that starts the entry
	WrappedKey []byte // WPKY, normally WrappedKeySize bytes; nil if absent
	PublicKey  []byte // PBKY, nil if absent
}

// Tag bits used to refuse duplicates: a keybag with two SALT tags (or two
// WPKY in one entry) is ambiguous, and guessing which one counts is how two
// tools come to disagree about the same evidence.
const (
	seenVERS uint32 = 1 << iota
	seenTYPE
	seenWRAP
	seenHMCK
	seenSALT
	seenITER
	seenDPWT
	seenDPIC
	seenDPSL
	seenCLAS
	seenKTYP
	seenWPKY
	seenPBKY
)

// ParseKeybag parses a keybag: a sequence of TLV records, each a 4-byte ASCII
// tag, a big-endian uint32 length and that many bytes of value. The first
// UUID belongs to the header; every further UUID starts a class key entry.
//
// It fails on anything it cannot read unambiguously: a truncated record, a
// length running past the end, a non-ASCII tag, a 4-byte field of another
// size, a duplicated tag, a class entry without CLAS, too many entries.
// Unknown tags are skipped and listed in UnknownTags. Values are not judged
// here (DeriveKEK checks the KDF parameters, Unlock the wrapped keys), so a
// keybag can be parsed and shown even when it cannot be used.
func ParseKeybag(data []byte) (*Keybag, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrBadKeybag)
	}
	if len(data) > MaxKeybagSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrBadKeybag, len(data), MaxKeybagSize)
	}
	kb := &Keybag{}
	var (
		headerSeen uint32
		classSeen  uint32
		headerUUID bool
		cur        *ClassKey // nil while in the header
	)
	for off := 0; off < len(data); {
		recOff := off
		if len(data)-off < 8 {
			return nil, fmt.Errorf("%w: record at offset %d: %d bytes left, a record header needs 8", ErrBadKeybag, off, len(data)-off)
		}
		rawTag := data[off : off+4]
		length := binary.BigEndian.Uint32(data[off+4 : off+8])
		off += 8
		if !isPrintableTag(rawTag) {
			return nil, fmt.Errorf("%w: record at offset %d: tag %q is not printable ASCII", ErrBadKeybag, recOff, rawTag)
		}
		tag := string(rawTag)
		if uint64(length) > uint64(len(data)-off) {
			return nil, fmt.Errorf("%w: tag %s at offset %d: length %d runs past the end (%d bytes left)", ErrBadKeybag, tag, recOff, length, len(data)-off)
		}
		v := data[off : off+int(length)]
		off += int(length)

		if tag == "UUID" {
			if !headerUUID && cur == nil {
				headerUUID = true
				kb.UUID = clone(v)
				continue
			}
			if err := checkClassEntry(cur, classSeen); err != nil {
				return nil, err
			}
			if len(kb.Classes) == MaxClassEntries {
				return nil, fmt.Errorf("%w: more than %d class key entries (at offset %d)", ErrBadKeybag, MaxClassEntries, recOff)
			}
			kb.Classes = append(kb.Classes, ClassKey{UUID: clone(v)})
			cur = &kb.Classes[len(kb.Classes)-1]
			classSeen = 0
			continue
		}

		var err error
		if cur == nil {
			err = kb.setHeaderField(tag, v, &headerSeen)
		} else {
			err = cur.setField(tag, v, &classSeen)
		}
		if errors.Is(err, errUnknownTag) {
			kb.UnknownTags = append(kb.UnknownTags, tag)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: tag %s at offset %d: %v", ErrBadKeybag, tag, recOff, err)
		}
	}
	if err := checkClassEntry(cur, classSeen); err != nil {
		return nil, err
	}
	return kb, nil
}

// errUnknownTag tells ParseKeybag to skip and list a tag.
var errUnknownTag = errors.New("unknown tag")

func (kb *Keybag) setHeaderField(tag string, v []byte, seen *uint32) error {
	var bit uint32
	switch tag {
	case "VERS":
		bit = seenVERS
	case "TYPE":
		bit = seenTYPE
	case "WRAP":
		bit = seenWRAP
	case "HMCK":
		bit = seenHMCK
	case "SALT":
		bit = seenSALT
	case "ITER":
		bit = seenITER
	case "DPWT":
		bit = seenDPWT
	case "DPIC":
		bit = seenDPIC
	case "DPSL":
		bit = seenDPSL
	default:
		return errUnknownTag
	}
	if *seen&bit != 0 {
		return errors.New("duplicate tag in keybag header")
	}
	*seen |= bit
	var err error
	switch tag {
	case "VERS":
		kb.Version, err = uint32Value(v)
	case "TYPE":
		kb.Type, err = uint32Value(v)
	case "WRAP":
		kb.Wrap, err = uint32Value(v)
	case "HMCK":
		kb.HMCK = clone(v)
	case "SALT":
		kb.Salt = clone(v)
	case "ITER":
		kb.Iter, err = uint32Value(v)
	case "DPWT":
		kb.DPWT, err = uint32Value(v)
	case "DPIC":
		kb.DPIC, err = uint32Value(v)
	case "DPSL":
		kb.DPSL = clone(v)
	}
	return err
}

func (c *ClassKey) setField(tag string, v []byte, seen *uint32) error {
	var bit uint32
	switch tag {
	case "CLAS":
		bit = seenCLAS
	case "WRAP":
		bit = seenWRAP
	case "KTYP":
		bit = seenKTYP
	case "WPKY":
		bit = seenWPKY
	case "PBKY":
		bit = seenPBKY
	default:
		return errUnknownTag
	}
	if *seen&bit != 0 {
		return errors.New("duplicate tag in class key entry")
	}
	*seen |= bit
	var err error
	switch tag {
	case "CLAS":
		c.RawClass, err = uint32Value(v)
		c.Class = c.RawClass & 0xF
	case "WRAP":
		c.Wrap, err = uint32Value(v)
	case "KTYP":
		c.KeyType, err = uint32Value(v)
	case "WPKY":
		c.WrappedKey = clone(v)
	case "PBKY":
		c.PublicKey = clone(v)
	}
	return err
}

// checkClassEntry refuses a finished class entry that does not say which
// class it is: its key could not be used for anything. A zero CLAS is a
// valid value, so presence comes from the seen bits.
func checkClassEntry(c *ClassKey, seen uint32) error {
	if c == nil || seen&seenCLAS != 0 {
		return nil
	}
	return fmt.Errorf("%w: class key entry %x has no CLAS tag", ErrBadKeybag, c.UUID)
}

func uint32Value(v []byte) (uint32, error) {
	if len(v) != 4 {
		return 0, fmt.Errorf("value is %d bytes, want 4", len(v))
	}
	return binary.BigEndian.Uint32(v), nil
}

func isPrintableTag(tag []byte) bool {
	for _, c := range tag {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

// clone copies v into a new non-nil slice, so that a present but empty value
// stays distinguishable from an absent one.
func clone(v []byte) []byte {
	return append(make([]byte, 0, len(v)), v...)
}
