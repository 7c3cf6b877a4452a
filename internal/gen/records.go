package gen

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"howett.net/plist"

	"iosbackup/manifest"
)

// mbFileRecord encodes the `file` column of Manifest.db for e: the NSKeyedArchiver
// form of an MBFile, as Apple writes it. Scalars are inline; strings and data are
// plist UIDs into $objects, laid out as in real backups: $null, the MBFile,
// RelativePath, then Target, Digest, EncryptionKey and its NSMutableData class,
// ExtendedAttributes, and the MBFile class last. wrappedKey is the 44-byte
// EncryptionKey (class prefix + wrapped key), nil when not encrypted.
func mbFileRecord(e *TruthEntry, wrappedKey []byte) ([]byte, error) {
	// Positions in $objects, decided first: the MBFile refers forward to them.
	next := 3
	take := func(present bool, n int) int {
		if !present {
			return 0
		}
		next += n
		return next - n
	}
	targetUID := take(e.Kind == manifest.KindSymlink, 1)
	digestUID := take(e.Digest != nil, 1)
	keyUID := take(wrappedKey != nil, 2)
	xattrUID := take(len(e.XAttrs) > 0, 1)
	classUID := take(true, 1)

	w := bpWriter{objects: make([]bpObject, 0, 64)}
	kv := []int{
		w.str("$class"), w.uid(classUID),
		w.str("Birth"), w.int(e.Birth),
		w.str("Flags"), w.int(0),
		w.str("GroupID"), w.int(int64(e.GID)),
		w.str("InodeNumber"), w.int(int64(e.Inode)),
		w.str("LastModified"), w.int(e.MTime),
		w.str("LastStatusChange"), w.int(e.CTime),
		w.str("Mode"), w.int(int64(e.Mode)),
		w.str("ProtectionClass"), w.int(int64(e.ProtectionClass)),
		w.str("RelativePath"), w.uid(2),
		w.str("Size"), w.int(e.RecordedSize),
		w.str("UserID"), w.int(int64(e.UID)),
	}
	for _, opt := range []struct {
		name string
		uid  int
	}{{"Digest", digestUID}, {"EncryptionKey", keyUID}, {"ExtendedAttributes", xattrUID}, {"Target", targetUID}} {
		if opt.uid != 0 {
			kv = append(kv, w.str(opt.name), w.uid(opt.uid))
		}
	}
	objects := []int{w.str("$null"), w.dict(kv...), w.str(e.Path)}
	if targetUID != 0 {
		objects = append(objects, w.str(e.Target))
	}
	if digestUID != 0 {
		objects = append(objects, w.data(e.Digest))
	}
	if keyUID != 0 {
		objects = append(objects,
			w.dict(w.str("$class"), w.uid(keyUID+1), w.str("NS.data"), w.data(wrappedKey)),
			archivedClass(&w, "NSMutableData", "NSData", "NSObject"))
	}
	if xattrUID != 0 {
		x, err := plist.Marshal(e.XAttrs, plist.BinaryFormat)
		if err != nil {
			return nil, fmt.Errorf("encode extended attributes: %w", err)
		}
		objects = append(objects, w.data(x))
	}
	objects = append(objects, archivedClass(&w, "MBFile", "NSObject"))
	top := w.dict(
		w.str("$version"), w.int(100000),
		w.str("$archiver"), w.str("NSKeyedArchiver"),
		w.str("$top"), w.dict(w.str("root"), w.uid(1)),
		w.str("$objects"), w.array(objects...),
	)
	b, err := w.encode(top)
	if err != nil {
		return nil, fmt.Errorf("encode MBFile: %w", err)
	}
	return b, nil
}

// archivedClass adds an NSKeyedArchiver class description: its name and ancestry.
func archivedClass(w *bpWriter, chain ...string) int {
	names := make([]int, len(chain))
	for i, c := range chain {
		names[i] = w.str(c)
	}
	return w.dict(w.str("$classes"), w.array(names...), w.str("$classname"), w.str(chain[0]))
}

// mbdbNull is the length that marks an absent string in Manifest.mbdb.
const mbdbNull = 0xFFFF

// mbdbHeader starts every Manifest.mbdb.
var mbdbHeader = []byte("mbdb\x05\x00")

// mbdbRecord encodes e as one big-endian Manifest.mbdb record.
func mbdbRecord(e *TruthEntry, wrappedKey []byte) ([]byte, error) {
	if len(e.XAttrs) > 255 {
		return nil, fmt.Errorf("%d extended attributes: mbdb holds at most 255", len(e.XAttrs))
	}
	b := make([]byte, 0, 128+len(e.Path))
	var err error
	str := func(s []byte, present bool) {
		if err != nil {
			return
		}
		if !present {
			b = binary.BigEndian.AppendUint16(b, mbdbNull)
			return
		}
		if len(s) >= mbdbNull {
			err = fmt.Errorf("mbdb string of %d bytes is too long", len(s))
			return
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	str([]byte(e.Domain), true)
	str([]byte(e.Path), true)
	str([]byte(e.Target), e.Kind == manifest.KindSymlink)
	str(e.Digest, e.Digest != nil)
	str(wrappedKey, wrappedKey != nil)
	b = binary.BigEndian.AppendUint16(b, uint16(e.Mode))
	b = binary.BigEndian.AppendUint64(b, e.Inode)
	b = binary.BigEndian.AppendUint32(b, e.UID)
	b = binary.BigEndian.AppendUint32(b, e.GID)
	b = binary.BigEndian.AppendUint32(b, uint32(e.MTime))
	b = binary.BigEndian.AppendUint32(b, uint32(e.CTime))
	b = binary.BigEndian.AppendUint32(b, uint32(e.Birth))
	b = binary.BigEndian.AppendUint64(b, uint64(e.RecordedSize))
	b = append(b, byte(e.ProtectionClass), byte(len(e.XAttrs)))
	for _, name := range slices.Sorted(maps.Keys(e.XAttrs)) {
		str([]byte(name), true)
		str(e.XAttrs[name], true)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}
