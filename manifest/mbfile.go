package manifest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"howett.net/plist"
)

// MaxMBFileSize bounds one MBFile record (the `file` column of Manifest.db). Apple's are
// under 2 KB; extended attributes make some larger. A bigger one is refused unread.
const MaxMBFileSize = 1 << 20

// WrappedKeyLen is the length of a wrapped per-file key; EncryptionKey carries a 4-byte
// little-endian protection class before it.
const WrappedKeyLen = 40

// maxUIDHops bounds how many UIDs DecodeMBFile follows for one field. Apple needs two
// (field -> NSData object -> inline bytes); some writers add one more (NS.data -> UID).
const maxUIDHops = 6

// appleEpoch is 2001-01-01T00:00:00Z in Unix seconds, the origin of NSDate.
const appleEpoch = 978307200

// DecodeMBFile decodes an MBFile record, an NSKeyedArchiver binary plist, into e. It
// sets Kind (0 when Mode has no file, directory or symlink type: the caller decides),
// Mode, UID, GID, Inode, Size, Birth, MTime, CTime, ProtectionClass, WrappedKey,
// Target, Digest and XAttrs, clearing those the record lacks. Domain, Path and ID are
// left alone: the manifest row is their authority.
//
// Beyond Apple's own layout it accepts what other writers produce: values stored
// behind UIDs, NS.data itself behind a UID, NSString objects, numbers as signed,
// unsigned or floating point, dates as NSDate, missing fields (zero), and extended
// attributes as an archived NSDictionary. When ProtectionClass is missing or 0 on a
// record with a key, the class is taken from the key's prefix.
//
// The slices and strings it stores are freshly allocated: they do not alias data.
//
// Binary records in the usual encodings are read in place (decodeMBFileFast, which
// promises the very same result); the rest, and every record it cannot vouch for, go
// through howett.net/plist.
func DecodeMBFile(data []byte, e *Entry) error {
	return decodeMBFileWith(data, e, nil)
}

// decodeMBFileWith is DecodeMBFile with the fast path's memory in d.
func decodeMBFileWith(data []byte, e *Entry, d *mbDecoder) error {
	if decodeMBFileFast(data, e, d) {
		return nil
	}
	if err := decodeMBFile(data, e); err != nil {
		return fmt.Errorf("MBFile: %w", err)
	}
	return nil
}

func decodeMBFile(data []byte, e *Entry) error {
	if len(data) > MaxMBFileSize {
		return fmt.Errorf("%d bytes, more than the %d allowed", len(data), MaxMBFileSize)
	}
	var doc map[string]any
	if err := decodePlist(data, &doc); err != nil {
		return err
	}
	objects, ok := doc["$objects"].([]any)
	if !ok {
		return errors.New("not an NSKeyedArchiver archive: no $objects array")
	}
	top, ok := doc["$top"].(map[string]any)
	if !ok {
		return errors.New("not an NSKeyedArchiver archive: no $top dictionary")
	}
	a := archive{objects: objects}
	rootV, err := a.resolve(top["root"], new(int))
	if err != nil {
		return fmt.Errorf("$top.root: %w", err)
	}
	root, ok := rootV.(map[string]any)
	if !ok {
		return fmt.Errorf("$top.root is %s, want a dictionary", typeName(rootV))
	}

	var f struct {
		mode, uid, gid, inode, size, class int64
		birth, mtime, ctime                int64
	}
	for _, n := range []struct {
		key     string
		dst     *int64
		min     int64
		max     int64
		anyTime bool
	}{
		{"Mode", &f.mode, 0, math.MaxUint32, false},
		// IDs are uint32 on the device; some writers store nobody (4294967294) as -2.
		{"UserID", &f.uid, math.MinInt32, math.MaxUint32, false},
		{"GroupID", &f.gid, math.MinInt32, math.MaxUint32, false},
		{"InodeNumber", &f.inode, 0, math.MaxInt64, false},
		{"Size", &f.size, 0, math.MaxInt64, false},
		{"ProtectionClass", &f.class, 0, math.MaxUint32, false},
		{"Birth", &f.birth, math.MinInt64, math.MaxInt64, true},
		{"LastModified", &f.mtime, math.MinInt64, math.MaxInt64, true},
		{"LastStatusChange", &f.ctime, math.MinInt64, math.MaxInt64, true},
	} {
		v, err := a.integer(root, n.key, n.min, n.max, n.anyTime)
		if err != nil {
			return err
		}
		*n.dst = v
	}

	target, err := a.str(root, "Target")
	if err != nil {
		return err
	}
	digest, err := a.data(root, "Digest")
	if err != nil {
		return err
	}
	key, err := a.data(root, "EncryptionKey")
	if err != nil {
		return err
	}
	xattrs, err := a.xattrs(root)
	if err != nil {
		return err
	}

	e.Mode = uint32(f.mode)
	e.Kind = kindFromMode(e.Mode)
	e.UID, e.GID = uint32(f.uid), uint32(f.gid)
	e.Inode = uint64(f.inode)
	e.Size = f.size
	e.Birth, e.MTime, e.CTime = f.birth, f.mtime, f.ctime
	e.ProtectionClass = uint32(f.class)
	e.WrappedKey = nil
	if len(key) > 0 { // an empty key wraps nothing: treat it as absent
		class, wrapped, err := splitEncryptionKey(key)
		if err != nil {
			return fmt.Errorf("EncryptionKey: %w", err)
		}
		e.WrappedKey = wrapped
		if e.ProtectionClass == 0 {
			e.ProtectionClass = class
		}
	}
	e.SetExtra(strings.Clone(target), cloneBytes(digest), xattrs)
	return nil
}

// splitEncryptionKey splits the 44-byte class prefix + wrapped key, copying the key.
func splitEncryptionKey(k []byte) (class uint32, wrapped *[WrappedKeyLen]byte, err error) {
	if len(k) != 4+WrappedKeyLen {
		return 0, nil, fmt.Errorf("%d bytes, want %d (4-byte class + %d-byte wrapped key)", len(k), 4+WrappedKeyLen, WrappedKeyLen)
	}
	wrapped = new([WrappedKeyLen]byte)
	copy(wrapped[:], k[4:])
	return binary.LittleEndian.Uint32(k), wrapped, nil
}

// kindFromMode reads the file type bits of st_mode; 0 when they name no type we show.
func kindFromMode(mode uint32) Kind {
	switch mode & 0o170000 {
	case 0o100000:
		return KindFile
	case 0o040000:
		return KindDir
	case 0o120000:
		return KindSymlink
	}
	return 0
}

// modeTypeBits is the inverse of kindFromMode.
func modeTypeBits(k Kind) uint32 {
	switch k {
	case KindFile:
		return 0o100000
	case KindDir:
		return 0o040000
	case KindSymlink:
		return 0o120000
	}
	return 0
}

// archive resolves references inside an NSKeyedArchiver $objects array.
type archive struct {
	objects []any
}

// resolve follows UIDs into $objects, at most maxUIDHops in all (hops is shared by the
// steps of one field so that a cycle through NS.data cannot loop). The "$null"
// placeholder resolves to nil.
func (a *archive) resolve(v any, hops *int) (any, error) {
	for {
		uid, ok := v.(plist.UID)
		if !ok {
			return v, nil
		}
		if *hops++; *hops > maxUIDHops {
			return nil, fmt.Errorf("more than %d references in a row (cycle?)", maxUIDHops)
		}
		if uint64(uid) >= uint64(len(a.objects)) {
			return nil, fmt.Errorf("UID %d out of range (%d objects)", uint64(uid), len(a.objects))
		}
		v = a.objects[uid]
		if s, ok := v.(string); ok && s == "$null" {
			return nil, nil
		}
	}
}

// field resolves obj[key]; nil when absent.
func (a *archive) field(obj map[string]any, key string, hops *int) (any, error) {
	v, err := a.resolve(obj[key], hops)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return v, nil
}

// integer reads a number in [lo, hi]; 0 when absent. Floating point is truncated.
// With anyTime, NSDate forms (a plist date, or an object with NS.time seconds since
// 2001) are accepted too and converted to Unix seconds.
func (a *archive) integer(obj map[string]any, key string, lo, hi int64, anyTime bool) (int64, error) {
	hops := 0
	v, err := a.field(obj, key, &hops)
	if err != nil || v == nil {
		return 0, err
	}
	if anyTime {
		switch t := v.(type) {
		case time.Time:
			v = t.Unix()
		case map[string]any:
			if _, ok := t["NS.time"]; ok {
				nt, err := a.field(t, "NS.time", &hops)
				if err != nil {
					return 0, fmt.Errorf("%s: %w", key, err)
				}
				f, ok := toFloat(nt)
				if !ok {
					return 0, fmt.Errorf("%s: NS.time is %s, want a number", key, typeName(nt))
				}
				v = f + appleEpoch
			}
		}
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%s: %d out of range", key, x)
		}
		n = int64(x)
	case float64, float32:
		f, _ := toFloat(x)
		// float64(MaxInt64) rounds up to 2^63, which is out of range: hence >=.
		if math.IsNaN(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, fmt.Errorf("%s: %v out of range", key, f)
		}
		n = int64(f)
	default:
		return 0, fmt.Errorf("%s is %s, want a number", key, typeName(v))
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s: %d out of range [%d, %d]", key, n, lo, hi)
	}
	return n, nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// str reads a string, inline or as an NSString object; "" when absent.
func (a *archive) str(obj map[string]any, key string) (string, error) {
	hops := 0
	v, err := a.field(obj, key, &hops)
	if err != nil || v == nil {
		return "", err
	}
	if d, ok := v.(map[string]any); ok {
		if _, has := d["NS.string"]; !has {
			return "", fmt.Errorf("%s is a dictionary without NS.string", key)
		}
		if v, err = a.field(d, "NS.string", &hops); err != nil {
			return "", fmt.Errorf("%s: %w", key, err)
		}
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, want a string", key, typeName(v))
	}
	return s, nil
}

// data reads bytes, inline or as an NSData object whose NS.data may itself be behind a
// UID; nil when absent. The result aliases the decoded plist: copy what you keep.
func (a *archive) data(obj map[string]any, key string) ([]byte, error) {
	hops := 0
	v, err := a.field(obj, key, &hops)
	if err != nil || v == nil {
		return nil, err
	}
	return a.bytesOf(v, key, &hops)
}

func (a *archive) bytesOf(v any, what string, hops *int) ([]byte, error) {
	if d, ok := v.(map[string]any); ok {
		if _, has := d["NS.data"]; !has {
			return nil, fmt.Errorf("%s is a dictionary without NS.data", what)
		}
		var err error
		if v, err = a.field(d, "NS.data", hops); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("%s is %s, want data", what, typeName(v))
	}
	return b, nil
}

// xattrs reads ExtendedAttributes: bytes holding a binary plist dictionary
// name -> data (Apple), or an archived NSDictionary (NS.keys / NS.objects).
func (a *archive) xattrs(obj map[string]any) (map[string][]byte, error) {
	const key = "ExtendedAttributes"
	hops := 0
	v, err := a.field(obj, key, &hops)
	if err != nil || v == nil {
		return nil, err
	}
	if d, ok := v.(map[string]any); ok {
		if _, ok := d["NS.keys"]; ok {
			return a.archivedDict(d)
		}
	}
	raw, err := a.bytesOf(v, key, &hops)
	if err != nil {
		return nil, err
	}
	var dict map[string]any
	if err := decodePlist(raw, &dict); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if len(dict) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(dict))
	for name, val := range dict {
		b, err := xattrValue(val)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", key, name, err)
		}
		out[strings.Clone(name)] = b
	}
	return out, nil
}

// xattrValue copies an attribute value: data, or a string some writers use instead.
func xattrValue(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return cloneBytes(x), nil
	case string:
		return []byte(x), nil
	}
	return nil, fmt.Errorf("value is %s, want data", typeName(v))
}

func (a *archive) archivedDict(d map[string]any) (map[string][]byte, error) {
	const key = "ExtendedAttributes"
	keys, kok := d["NS.keys"].([]any)
	vals, vok := d["NS.objects"].([]any)
	if !kok || !vok || len(keys) != len(vals) {
		return nil, fmt.Errorf("%s: archived dictionary without matching NS.keys and NS.objects arrays", key)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(keys))
	for i := range keys {
		hops := 0
		k, err := a.resolve(keys[i], &hops)
		if err != nil {
			return nil, fmt.Errorf("%s key %d: %w", key, i, err)
		}
		name, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("%s key %d is %s, want a string", key, i, typeName(k))
		}
		hops = 0
		v, err := a.resolve(vals[i], &hops)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", key, name, err)
		}
		if _, isString := v.(string); !isString {
			if v, err = a.bytesOf(v, key+" "+name, &hops); err != nil {
				return nil, err
			}
		}
		b, err := xattrValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", key, name, err)
		}
		out[strings.Clone(name)] = b
	}
	return out, nil
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// typeName names a decoded plist value's type for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "missing"
	case string:
		return "a string"
	case []byte:
		return "data"
	case map[string]any:
		return "a dictionary"
	case []any:
		return "an array"
	case bool:
		return "a boolean"
	case int64, uint64:
		return "an integer"
	case float32, float64:
		return "a real"
	case time.Time:
		return "a date"
	case plist.UID:
		return "a UID"
	}
	return fmt.Sprintf("%T", v)
}
