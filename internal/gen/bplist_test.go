package gen

import (
	"reflect"
	"testing"

	"howett.net/plist"

	"iosbackup/manifest"
)

// The reference encoding of an MBFile: the same archive built from Go values and
// encoded by howett.net/plist. The fast writer must decode to exactly this.
type refMBFile struct {
	Class              plist.UID `plist:"$class"`
	Birth              int64     `plist:"Birth"`
	Digest             plist.UID `plist:"Digest,omitempty"`
	EncryptionKey      plist.UID `plist:"EncryptionKey,omitempty"`
	ExtendedAttributes plist.UID `plist:"ExtendedAttributes,omitempty"`
	Flags              int64     `plist:"Flags"`
	GroupID            uint32    `plist:"GroupID"`
	InodeNumber        uint64    `plist:"InodeNumber"`
	LastModified       int64     `plist:"LastModified"`
	LastStatusChange   int64     `plist:"LastStatusChange"`
	Mode               uint32    `plist:"Mode"`
	ProtectionClass    uint32    `plist:"ProtectionClass"`
	RelativePath       plist.UID `plist:"RelativePath"`
	Size               int64     `plist:"Size"`
	Target             plist.UID `plist:"Target,omitempty"`
	UserID             uint32    `plist:"UserID"`
}

type refClass struct {
	Classes   []string `plist:"$classes"`
	ClassName string   `plist:"$classname"`
}

func refMBFileRecord(t testing.TB, e *TruthEntry, wrappedKey []byte) []byte {
	f := refMBFile{
		Birth: e.Birth, GroupID: e.GID, InodeNumber: e.Inode, LastModified: e.MTime,
		LastStatusChange: e.CTime, Mode: e.Mode, ProtectionClass: e.ProtectionClass,
		Size: e.RecordedSize, UserID: e.UID, RelativePath: 2,
	}
	objects := []any{"$null", nil, e.Path}
	if e.Kind == manifest.KindSymlink {
		f.Target = plist.UID(len(objects))
		objects = append(objects, e.Target)
	}
	if e.Digest != nil {
		f.Digest = plist.UID(len(objects))
		objects = append(objects, e.Digest)
	}
	if wrappedKey != nil {
		f.EncryptionKey = plist.UID(len(objects))
		objects = append(objects,
			map[string]any{"$class": plist.UID(len(objects) + 1), "NS.data": wrappedKey},
			refClass{[]string{"NSMutableData", "NSData", "NSObject"}, "NSMutableData"})
	}
	if len(e.XAttrs) > 0 {
		x, err := plist.Marshal(e.XAttrs, plist.BinaryFormat)
		if err != nil {
			t.Fatal(err)
		}
		f.ExtendedAttributes = plist.UID(len(objects))
		objects = append(objects, x)
	}
	f.Class = plist.UID(len(objects))
	objects = append(objects, refClass{[]string{"MBFile", "NSObject"}, "MBFile"})
	objects[1] = f
	b, err := plist.Marshal(map[string]any{
		"$archiver": "NSKeyedArchiver",
		"$objects":  objects,
		"$top":      map[string]any{"root": plist.UID(1)},
		"$version":  100000,
	}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeAny(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if _, err := plist.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

func checkSameAsReference(t testing.TB, e *TruthEntry, key []byte) {
	t.Helper()
	fast, err := mbFileRecord(e, key)
	if err != nil {
		t.Fatalf("%s: %v", e.Key(), err)
	}
	got, want := decodeAny(t, fast), decodeAny(t, refMBFileRecord(t, e, key))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: fast MBFile decodes to\n%#v\nreference:\n%#v", e.Key(), got, want)
	}
}

func TestMBFileRecordMatchesHowett(t *testing.T) {
	truth := generate(t, Options{Seed: 11, Entries: 300})
	key := make([]byte, 44)
	for i := range key {
		key[i] = byte(i)
	}
	kinds := map[string]bool{}
	for i := range truth.Entries {
		e := &truth.Entries[i]
		if e.Synthetic {
			continue
		}
		checkSameAsReference(t, e, nil)
		if e.Kind == manifest.KindFile {
			checkSameAsReference(t, e, key)
		}
		kinds[e.Kind.String()] = true
		if e.Digest != nil {
			kinds["digest"] = true
		}
		if e.XAttrs != nil {
			kinds["xattrs"] = true
		}
		if !isASCII(e.Path) {
			kinds["non-ASCII"] = true
		}
	}
	if len(kinds) != 6 {
		t.Errorf("record kinds covered: %v", kinds)
	}
	// Values at the edges of every integer and length encoding.
	edge := TruthEntry{
		Domain: "HomeDomain", Path: "Library/😀 long name with a surrogate pair", Kind: manifest.KindSymlink,
		Mode: modeSymlink, UID: 1<<32 - 1, GID: 65536, Inode: 1<<40 + 3, Birth: -1, MTime: 1 << 33, CTime: 255,
		RecordedSize: 65535, Target: "/var/mobile/" + string(make([]byte, 300)), Digest: make([]byte, 15),
	}
	checkSameAsReference(t, &edge, nil)
}

func FuzzMBFileRecord(f *testing.F) {
	f.Add("Library/SMS/sms.db", "", uint64(1234), int64(1600000000), int64(20480), []byte("x"))
	f.Add("Media/Cafe\u0301.m4a", "/var/mobile/Media", uint64(1)<<40, int64(-5), int64(1)<<33, []byte{})
	f.Fuzz(func(t *testing.T, path, target string, inode uint64, mtime, size int64, digest []byte) {
		inode &= 1<<63 - 1 // reference encodes larger values as 128-bit integers
		e := TruthEntry{Domain: "D", Path: path, Kind: manifest.KindFile, Mode: modeFile, Inode: inode,
			MTime: mtime, RecordedSize: size, Digest: digest}
		if target != "" {
			e.Kind, e.Target = manifest.KindSymlink, target
		}
		fast, err := mbFileRecord(&e, nil)
		if err != nil {
			return // invalid UTF-8 is refused, as it must be
		}
		var got any
		if _, err := plist.Unmarshal(fast, &got); err != nil {
			t.Fatalf("fast record does not decode: %v", err)
		}
		want := decodeAny(t, refMBFileRecord(t, &e, nil))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fast %#v\nreference %#v", got, want)
		}
	})
}
