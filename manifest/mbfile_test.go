package manifest

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
)

func key44(class uint32, fill byte) []byte {
	k := make([]byte, 44)
	binary.LittleEndian.PutUint32(k, class)
	for i := 4; i < 44; i++ {
		k[i] = fill + byte(i)
	}
	return k
}

// appleFile is an MBFile laid out as iOS 14 writes one: scalars inline, strings and
// data behind UIDs, the key in an NSMutableData, attributes as bplist bytes.
func appleFile(t testing.TB) ([]byte, Entry) {
	a := newTestArchive()
	xattrs := mustBplist(t, map[string]any{"com.apple.assetsd.UUID": []byte("9D0B5740"), "user.empty": []byte{}})
	digest := bytes.Repeat([]byte{0xAB}, 20)
	key := key44(3, 0x10)
	root := map[string]any{
		"Mode": int64(0o100644), "UserID": int64(501), "GroupID": int64(501),
		"InodeNumber": int64(55569), "Size": int64(1234), "Flags": int64(0),
		"Birth": int64(1610659523), "LastModified": int64(1610659524), "LastStatusChange": int64(1610659525),
		"ProtectionClass":    int64(3),
		"RelativePath":       a.add("Media/PhotoData/x.jpg"),
		"EncryptionKey":      a.nsData(key),
		"Digest":             a.add(digest),
		"ExtendedAttributes": a.add(xattrs),
	}
	want := Entry{
		Kind: KindFile, Mode: 0o100644, UID: 501, GID: 501, Inode: 55569, Size: 1234,
		Birth: 1610659523, MTime: 1610659524, CTime: 1610659525, ProtectionClass: 3,
		WrappedKey: (*[WrappedKeyLen]byte)(key[4:]),
		Extra: &EntryExtra{Digest: digest,
			XAttrs: map[string][]byte{"com.apple.assetsd.UUID": []byte("9D0B5740"), "user.empty": {}}},
	}
	return a.encode(t, root), want
}

// mbfileVariants are records as other writers produce them, with what each decodes to.
func mbfileVariants(t testing.TB) map[string]struct {
	blob []byte
	want Entry
} {
	out := map[string]struct {
		blob []byte
		want Entry
	}{}
	add := func(name string, blob []byte, want Entry) {
		out[name] = struct {
			blob []byte
			want Entry
		}{blob, want}
	}

	blob, want := appleFile(t)
	add("apple file", blob, want)

	// NS.data behind a UID, ProtectionClass missing: the class comes from the prefix.
	a := newTestArchive()
	key := key44(4, 0x40)
	keyBytes := a.add(key)
	class := a.add(map[string]any{"$classname": "NSData", "$classes": []any{"NSData", "NSObject"}})
	keyObj := a.add(map[string]any{"NS.data": keyBytes, "$class": class})
	add("NS.data behind UID, no ProtectionClass", a.encode(t, map[string]any{
		"Mode": int64(0o100600), "EncryptionKey": keyObj, "Size": uint64(7),
	}), Entry{Kind: KindFile, Mode: 0o100600, Size: 7, ProtectionClass: 4, WrappedKey: (*[WrappedKeyLen]byte)(key[4:])})

	// ProtectionClass 0 with a key: the prefix wins.
	a = newTestArchive()
	key = key44(2, 0x80)
	add("ProtectionClass 0 with key", a.encode(t, map[string]any{
		"Mode": int64(0o100644), "ProtectionClass": int64(0), "EncryptionKey": a.nsData(key),
	}), Entry{Kind: KindFile, Mode: 0o100644, ProtectionClass: 2, WrappedKey: (*[WrappedKeyLen]byte)(key[4:])})

	// Symlink, Target as a plain string behind a UID.
	a = newTestArchive()
	add("symlink", a.encode(t, map[string]any{
		"Mode": int64(0o120755), "Target": a.add("/var/mobile/Containers/Data/Application/X/Library"),
		"RelativePath": a.add("Library/link"),
	}), Entry{Kind: KindSymlink, Mode: 0o120755, Extra: &EntryExtra{Target: "/var/mobile/Containers/Data/Application/X/Library"}})

	// Symlink whose Target is an NSString object, and $null as Digest.
	a = newTestArchive()
	str := a.add(map[string]any{"NS.string": "/private/var/x"})
	add("NSString target, $null digest", a.encode(t, map[string]any{
		"Mode": int64(0o120644), "Target": str, "Digest": plist.UID(0),
	}), Entry{Kind: KindSymlink, Mode: 0o120644, Extra: &EntryExtra{Target: "/private/var/x"}})

	// Numbers as unsigned, floating point, behind UIDs, and dates as NSDate.
	a = newTestArchive()
	when := time.Date(2021, 1, 14, 21, 25, 23, 0, time.UTC)
	nsDate := a.add(map[string]any{"NS.time": float64(when.Unix() - appleEpoch)})
	add("numbers in other forms", a.encode(t, map[string]any{
		"Mode": uint64(0o040755), "UserID": a.add(int64(-2)), "GroupID": float64(20.9),
		"InodeNumber": uint64(1 << 40), "Size": a.add(uint64(0)),
		"Birth": when, "LastModified": nsDate, "LastStatusChange": float64(-5.5),
	}), Entry{Kind: KindDir, Mode: 0o040755, UID: 4294967294, GID: 20, Inode: 1 << 40,
		Birth: when.Unix(), MTime: when.Unix(), CTime: -5})

	// Nothing but the type: everything else zero. No Mode at all: Kind 0.
	a = newTestArchive()
	add("only mode", a.encode(t, map[string]any{"Mode": int64(0o040700)}), Entry{Kind: KindDir, Mode: 0o040700})
	a = newTestArchive()
	add("no mode", a.encode(t, map[string]any{"Size": int64(3)}), Entry{Size: 3})

	// Extended attributes as an archived NSDictionary, values as NSData and string.
	a = newTestArchive()
	k1, k2 := a.add("com.apple.quarantine"), a.add("user.note")
	v1, v2 := a.nsData([]byte{1, 2, 3}), a.add("hello")
	dict := a.add(map[string]any{"NS.keys": []any{k1, k2}, "NS.objects": []any{v1, v2}})
	add("archived xattr dictionary", a.encode(t, map[string]any{
		"Mode": int64(0o100644), "ExtendedAttributes": dict,
	}), Entry{Kind: KindFile, Mode: 0o100644, Extra: &EntryExtra{XAttrs: map[string][]byte{"com.apple.quarantine": {1, 2, 3}, "user.note": []byte("hello")}}})

	// Extended attributes as an NSData object wrapping the bplist, and an XML archive.
	a = newTestArchive()
	add("xattrs in NSData", a.encode(t, map[string]any{
		"Mode": int64(0o100644), "ExtendedAttributes": a.nsData(mustBplist(t, map[string]any{"a": []byte("b")})),
	}), Entry{Kind: KindFile, Mode: 0o100644, Extra: &EntryExtra{XAttrs: map[string][]byte{"a": []byte("b")}}})
	return out
}

func TestDecodeMBFileVariants(t *testing.T) {
	for name, v := range mbfileVariants(t) {
		t.Run(name, func(t *testing.T) {
			// Start from a dirty entry: every field DecodeMBFile owns must be reset,
			// and Domain/Path/ID must survive.
			got := Entry{Domain: "D", Path: "p", ID: FileID{1}, Extra: &EntryExtra{Target: "stale", Digest: []byte{9},
				XAttrs: map[string][]byte{"stale": nil}}, WrappedKey: &[WrappedKeyLen]byte{9}, ProtectionClass: 9, Size: 99}
			if err := DecodeMBFile(v.blob, &got); err != nil {
				t.Fatal(err)
			}
			want := v.want
			want.Domain, want.Path, want.ID = "D", "p", FileID{1}
			if !reflect.DeepEqual(normalize(got), normalize(want)) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// normalize makes empty and nil slices of the extras compare equal (on a copy).
func normalize(e Entry) Entry {
	var xattrs map[string][]byte
	for k, v := range e.XAttrs() {
		if xattrs == nil {
			xattrs = map[string][]byte{}
		}
		if len(v) == 0 {
			v = nil
		}
		xattrs[k] = v
	}
	e.SetExtra(e.Target(), e.Digest(), xattrs)
	return e
}

func TestDecodeMBFileDoesNotAlias(t *testing.T) {
	blob, _ := appleFile(t)
	var e Entry
	if err := DecodeMBFile(blob, &e); err != nil {
		t.Fatal(err)
	}
	key, digest := append([]byte(nil), e.WrappedKeyBytes()...), append([]byte(nil), e.Digest()...)
	for i := range blob {
		blob[i] = 0
	}
	if !bytes.Equal(key, e.WrappedKeyBytes()) || !bytes.Equal(digest, e.Digest()) {
		t.Fatal("decoded slices alias the input blob")
	}
}

func TestDecodeMBFileHostile(t *testing.T) {
	build := func(f func(a *testArchive) map[string]any) []byte {
		a := newTestArchive()
		return a.encode(t, f(a))
	}
	rawDoc := func(objects []any, root any) []byte {
		return mustBplist(t, map[string]any{"$archiver": "NSKeyedArchiver", "$top": map[string]any{"root": root}, "$objects": objects})
	}
	cases := map[string]struct {
		blob []byte
		want string // a fragment of the error
	}{
		"not a plist":       {[]byte("hello world, not a plist"), "property list"},
		"empty":             {nil, "property list"},
		"no $objects":       {mustBplist(t, map[string]any{"$top": map[string]any{"root": plist.UID(1)}}), "$objects"},
		"no $top":           {mustBplist(t, map[string]any{"$objects": []any{"$null"}}), "$top"},
		"root out of range": {rawDoc([]any{"$null"}, plist.UID(7)), "UID 7 out of range"},
		"root is $null":     {rawDoc([]any{"$null"}, plist.UID(0)), "want a dictionary"},
		"root is a string":  {rawDoc([]any{"$null", "x"}, plist.UID(1)), "want a dictionary"},
		"root cycle":        {rawDoc([]any{"$null", plist.UID(2), plist.UID(1)}, plist.UID(1)), "cycle"},
		"field UID out of range": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "Target": plist.UID(1000)}
		}), "UID 1000 out of range"},
		"NS.data cycle": {build(func(a *testArchive) map[string]any {
			// object n refers to itself through NS.data.
			n := plist.UID(len(a.objects))
			a.add(map[string]any{"NS.data": n})
			return map[string]any{"Mode": int64(0o100644), "EncryptionKey": n}
		}), "EncryptionKey is a dictionary, want data"},
		"field refers to the root": {build(func(a *testArchive) map[string]any {
			// the root is added last, after its class: its UID is len+1.
			return map[string]any{"Mode": int64(0o100644), "Target": plist.UID(len(a.objects) + 1)}
		}), "Target is a dictionary without NS.string"},
		"mode is a string": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": "0100644"}
		}), "Mode is a string"},
		"mode too large": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(math.MaxUint32 + 1)}
		}), "Mode"},
		"negative size": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "Size": int64(-1)}
		}), "Size"},
		"huge unsigned": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "InodeNumber": uint64(math.MaxUint64)}
		}), "InodeNumber"},
		"float out of range": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "Birth": float64(1e300)}
		}), "Birth"},
		"target is a number": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o120644), "Target": int64(5)}
		}), "Target is an integer"},
		"key too short": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "EncryptionKey": a.nsData(make([]byte, 43))}
		}), "43 bytes"},
		"key is a string": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "EncryptionKey": a.add(map[string]any{"NS.data": "abc"})}
		}), "want data"},
		"xattrs not a plist": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "ExtendedAttributes": a.add([]byte("garbage!"))}
		}), "ExtendedAttributes"},
		"xattr value is a number": {build(func(a *testArchive) map[string]any {
			return map[string]any{"Mode": int64(0o100644), "ExtendedAttributes": a.add(mustBplist(t, map[string]any{"n": 1}))}
		}), "want data"},
		"archived xattrs mismatched": {build(func(a *testArchive) map[string]any {
			d := a.add(map[string]any{"NS.keys": []any{a.add("a")}, "NS.objects": []any{}})
			return map[string]any{"Mode": int64(0o100644), "ExtendedAttributes": d}
		}), "NS.keys"},
		"too large": {append(appendBlob(t), make([]byte, MaxMBFileSize)...), "allowed"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var e Entry
			err := DecodeMBFile(c.blob, &e)
			if err == nil {
				t.Fatalf("no error; decoded %+v", e)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "MBFile: ") {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func appendBlob(t testing.TB) []byte {
	b, _ := appleFile(t)
	return b
}

// TestDecodeMBFileMatchesSample decodes every blob of the real sample and checks each
// against an independent walk of the same plist (map access, no shared helpers).
func TestDecodeMBFileMatchesSample(t *testing.T) {
	needFile(t, mvtDB)
	db, err := sql.Open("sqlite", "file:"+mvtDB+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT relativePath, file FROM Files")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, withKey, withXattrs, symlinks := 0, 0, 0, 0
	for rows.Next() {
		var path string
		var blob []byte
		if err := rows.Scan(&path, &blob); err != nil {
			t.Fatal(err)
		}
		var e Entry
		if err := DecodeMBFile(blob, &e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var doc map[string]any
		if _, err := plist.Unmarshal(blob, &doc); err != nil {
			t.Fatal(err)
		}
		objs := doc["$objects"].([]any)
		root := objs[doc["$top"].(map[string]any)["root"].(plist.UID)].(map[string]any)
		num := func(k string) int64 { // 1-4 byte integers come back unsigned, 8-byte ones signed
			switch v := root[k].(type) {
			case uint64:
				return int64(v)
			case int64:
				return v
			}
			t.Fatalf("%s: %s is %T", path, k, root[k])
			return 0
		}
		// Real records store nobody as UserID -2: uint32 on the device.
		if e.Mode != uint32(num("Mode")) || e.UID != uint32(num("UserID")) || e.GID != uint32(num("GroupID")) ||
			e.Inode != uint64(num("InodeNumber")) || e.Size != num("Size") || e.Birth != num("Birth") ||
			e.MTime != num("LastModified") || e.CTime != num("LastStatusChange") ||
			e.ProtectionClass != uint32(num("ProtectionClass")) {
			t.Fatalf("%s: scalar fields differ: %+v vs %v", path, e, root)
		}
		if objs[root["RelativePath"].(plist.UID)].(string) != path {
			t.Fatalf("%s: RelativePath in MBFile differs from the row", path)
		}
		if k, ok := root["EncryptionKey"]; ok {
			withKey++
			nsdata := objs[k.(plist.UID)].(map[string]any)["NS.data"].([]byte)
			if !bytes.Equal(e.WrappedKeyBytes(), nsdata[4:]) || binary.LittleEndian.Uint32(nsdata) != e.ProtectionClass {
				t.Fatalf("%s: key differs", path)
			}
		} else if e.WrappedKey != nil {
			t.Fatalf("%s: key out of nowhere", path)
		}
		if d, ok := root["Digest"]; ok != (e.Digest() != nil) || ok && !bytes.Equal(objs[d.(plist.UID)].([]byte), e.Digest()) {
			t.Fatalf("%s: digest differs", path)
		}
		if tg, ok := root["Target"]; ok != (e.Target() != "") || ok && objs[tg.(plist.UID)].(string) != e.Target() {
			t.Fatalf("%s: target differs", path)
		} else if ok {
			symlinks++
			if e.Kind != KindSymlink {
				t.Fatalf("%s: target on a %v", path, e.Kind)
			}
		}
		if x, ok := root["ExtendedAttributes"]; ok {
			withXattrs++
			var m map[string][]byte
			if _, err := plist.Unmarshal(objs[x.(plist.UID)].([]byte), &m); err != nil {
				t.Fatal(err)
			}
			if len(m) == 0 || !reflect.DeepEqual(m, e.XAttrs()) {
				t.Fatalf("%s: xattrs differ: %v vs %v", path, m, e.XAttrs())
			}
		} else if e.XAttrs() != nil {
			t.Fatalf("%s: xattrs out of nowhere", path)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Counts from an independent survey of the sample (python plistlib): 1089 keys,
	// 77 records with attributes, 14 symlinks.
	if n != mvtRows || withKey != 1089 || withXattrs != 77 || symlinks != 14 {
		t.Fatalf("rows %d, keys %d, xattrs %d, symlinks %d", n, withKey, withXattrs, symlinks)
	}
}

func FuzzDecodeMBFile(f *testing.F) {
	for _, v := range mbfileVariants(f) {
		f.Add(v.blob)
	}
	f.Add([]byte("bplist00"))
	f.Add([]byte("bplist00\xff\xff")) // the damaged record of the hostile-input suite
	f.Add(mustBplist(f, map[string]any{"$top": map[string]any{"root": plist.UID(1)}, "$objects": []any{"$null", plist.UID(1)}}))
	// Real blobs: a directory, a file with key and digest, one with xattrs, a symlink.
	if db, err := sql.Open("sqlite", "file:"+mvtDB+"?mode=ro&immutable=1"); err == nil {
		for _, q := range []string{
			"SELECT file FROM Files WHERE flags = 2 LIMIT 1",
			"SELECT file FROM Files WHERE flags = 4 LIMIT 1",
			"SELECT file FROM Files WHERE flags = 1 AND instr(file, 'Digest') LIMIT 1",
			"SELECT file FROM Files WHERE instr(file, 'ExtendedAttributes') LIMIT 2",
		} {
			rows, err := db.Query(q)
			if err != nil {
				continue
			}
			for rows.Next() {
				var b []byte
				if rows.Scan(&b) == nil {
					f.Add(b)
				}
			}
			rows.Close()
		}
		db.Close()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Entry
		if err := DecodeMBFile(data, &e); err != nil {
			return
		}
		if e.Kind != kindFromMode(e.Mode) {
			t.Fatalf("kind %v for mode %o", e.Kind, e.Mode)
		}
	})
}
