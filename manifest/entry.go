// Package manifest reads the description of an iOS backup: the property lists beside
// it (Info.plist, Status.plist, Manifest.plist) and the list of files in it, from
// Manifest.db (iOS 10+) or Manifest.mbdb (iOS 5-9), into one compact Entry type.
//
// It knows nothing of encryption: an encrypted Manifest.db is handed to it as an
// io.ReaderAt that decrypts, and wrapped file keys are passed through untouched.
package manifest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
)

// Kind is what an entry is on the device.
type Kind uint8

const (
	KindFile Kind = iota + 1
	KindDir
	KindSymlink
)

func (k Kind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// FileID is the SHA-1 that names an entry's blob. Keeping it as 20 raw bytes instead of
// the manifest's hex string halves its memory and makes an invalid ID unrepresentable:
// a path built from it can never leave the backup folder.
type FileID [20]byte

// ComputeFileID returns SHA-1(domain + "-" + relativePath), the name every writer uses.
func ComputeFileID(domain, relPath string) FileID {
	return FileID(sha1.Sum([]byte(domain + "-" + relPath)))
}

// ParseFileID accepts exactly 40 hex digits (either case).
func ParseFileID(s string) (FileID, error) {
	var id FileID
	if len(s) != 40 {
		return id, fmt.Errorf("fileID %q: want 40 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("fileID %q: not hex: %w", s, err)
	}
	return id, nil
}

// String is the lowercase hex form used in blob file names.
func (id FileID) String() string { return hex.EncodeToString(id[:]) }

// Entry is one row of a manifest: a file, directory or symlink of one domain.
//
// It is deliberately compact (a million of them must fit in a few hundred MB): the
// domain string is interned by the reader, what most rows lack (a symlink target, a
// digest, extended attributes) sits behind one pointer, and the fields are grouped by
// size so that the struct has no padding (128 bytes: 184 with those three inline and
// the wrapped key as a slice, 56 MB more per million entries).
type Entry struct {
	Domain string // e.g. "HomeDomain", "AppDomain-com.example.app"
	Path   string // relative path inside the domain; "" is the domain root
	// WrappedKey is the RFC 3394 wrapped per-file key of an encrypted backup, without
	// the 4-byte class prefix; nil when the file is not encrypted. (A pointer to the
	// fixed-size key, not a slice: 16 bytes less in each of a million entries.)
	WrappedKey *[WrappedKeyLen]byte
	// Extra is nil unless the row has a target, a digest or extended attributes:
	// read them with Target, Digest and XAttrs, set them with SetExtra.
	Extra *EntryExtra

	Inode uint64
	// Size is what the manifest claims. For encrypted files it is NOT the plaintext
	// length (the padding is the truth); for plain files the blob's length is.
	Size  int64
	Birth int64 // Unix seconds
	MTime int64
	CTime int64

	Mode uint32 // full st_mode as recorded (type bits included)
	UID  uint32
	GID  uint32
	// ProtectionClass is the data-protection class (1-11 on files, 0 elsewhere).
	ProtectionClass uint32

	ID   FileID
	Kind Kind
	// Synthetic marks a directory the manifest did not list but a child implies.
	Synthetic bool
}

// EntryExtra is the part of an Entry that most rows do not have.
type EntryExtra struct {
	// Target is a symlink's target: an absolute device path.
	Target string
	// Digest is the SHA-1 of the contents when the writer recorded one.
	Digest []byte
	// XAttrs are the extended attributes, name -> value; nil when there are none.
	XAttrs map[string][]byte
}

// WrappedKeyBytes is WrappedKey as a slice, nil when the file is not encrypted.
func (e *Entry) WrappedKeyBytes() []byte {
	if e.WrappedKey == nil {
		return nil
	}
	return e.WrappedKey[:]
}

// Target is a symlink's target ("" for other entries).
func (e *Entry) Target() string {
	if e.Extra == nil {
		return ""
	}
	return e.Extra.Target
}

// Digest is the SHA-1 of the contents the writer recorded, or nil.
func (e *Entry) Digest() []byte {
	if e.Extra == nil {
		return nil
	}
	return e.Extra.Digest
}

// XAttrs are the extended attributes, name -> value, or nil.
func (e *Entry) XAttrs() map[string][]byte {
	if e.Extra == nil {
		return nil
	}
	return e.Extra.XAttrs
}

// SetExtra records a target, a digest and extended attributes; Extra stays nil when
// all three are empty.
func (e *Entry) SetExtra(target string, digest []byte, xattrs map[string][]byte) {
	if len(digest) == 0 {
		digest = nil
	}
	if len(xattrs) == 0 {
		xattrs = nil
	}
	if target == "" && digest == nil && xattrs == nil {
		e.Extra = nil
		return
	}
	e.Extra = &EntryExtra{Target: target, Digest: digest, XAttrs: xattrs}
}

// Perm returns the permission bits (without the file-type bits).
func (e *Entry) Perm() uint32 { return e.Mode & 0o7777 }
