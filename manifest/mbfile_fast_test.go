package manifest

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"reflect"
	"testing"

	"howett.net/plist"
)

// sampleBlobs returns the `file` column of every row of the real sample, in table order.
func sampleBlobs(t testing.TB) [][]byte {
	t.Helper()
	needFile(t, mvtDB)
	db, err := sql.Open("sqlite", "file:"+mvtDB+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT file FROM Files ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dirtyEntry has every field set, so that a decoder that forgets to reset one, or
// touches Domain, Path, ID or Synthetic, shows.
func dirtyEntry() Entry {
	return Entry{Domain: "D", Path: "p", ID: FileID{1}, Kind: KindSymlink, Mode: 1, UID: 2, GID: 3,
		Inode: 4, Size: 5, Birth: 6, MTime: 7, CTime: 8, ProtectionClass: 9, WrappedKey: &[WrappedKeyLen]byte{9},
		Extra: &EntryExtra{Target: "stale", Digest: []byte{9}, XAttrs: map[string][]byte{"stale": nil}}, Synthetic: true}
}

// compareFastSlow decodes blob with both decoders from the same dirty entry. It
// reports whether the fast one accepted it, and fails when it accepted something the
// slow one decodes differently or rejects. The comparison is strict: a nil slice and
// an empty one differ.
func compareFastSlow(t testing.TB, name string, blob []byte, mem *byteArena) bool {
	t.Helper()
	fast, slow := dirtyEntry(), dirtyEntry()
	own := bytes.Clone(blob) // scribbled over below: the result must not alias it
	dec := &mbDecoder{mem: mem}
	if !decodeMBFileFast(own, &fast, dec) {
		if !reflect.DeepEqual(fast, dirtyEntry()) {
			t.Fatalf("%s: the fast decoder refused the record but changed the entry: %+v", name, fast)
		}
		return false
	}
	if err := decodeMBFile(blob, &slow); err != nil {
		t.Fatalf("%s: the fast decoder accepted a record the slow one rejects (%v); fast gave %+v", name, err, fast)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s: decoders differ:\nfast %#v\nslow %#v", name, fast, slow)
	}
	// Neither scribbling over the record nor reusing the arena may change the result.
	for i := range own {
		own[i] ^= 0xFF
	}
	if mem != nil {
		again := Entry{}
		decodeMBFileFast(blob, &again, dec)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s: the decoded entry changed after its record was overwritten or the arena reused", name)
	}
	return true
}

func TestFastMBFileMatchesSlowOnSample(t *testing.T) {
	blobs := sampleBlobs(t)
	if len(blobs) != mvtRows {
		t.Fatalf("%d blobs, want %d", len(blobs), mvtRows)
	}
	for _, mem := range []*byteArena{nil, new(byteArena)} {
		for i, blob := range blobs {
			name := fmt.Sprintf("row %d", i+1)
			if !compareFastSlow(t, name, blob, mem) {
				// Every record Apple wrote must take the fast path: it is what makes
				// a million-row manifest load in seconds.
				t.Fatalf("%s: the fast decoder refused a real record", name)
			}
		}
	}
}

func TestFastMBFileMatchesSlowOnVariants(t *testing.T) {
	for name, v := range mbfileVariants(t) {
		if !compareFastSlow(t, name, v.blob, new(byteArena)) {
			t.Errorf("%s: refused by the fast decoder", name)
		}
	}
}

// TestFastMBFileRefuses lists records the fast decoder must leave to the slow one:
// those the slow one rejects (it reports why), and valid ones it does not read itself.
func TestFastMBFileRefuses(t *testing.T) {
	apple, _ := appleFile(t)
	xmlDoc, err := plist.Marshal(map[string]any{"$top": map[string]any{"root": plist.UID(1)},
		"$objects": []any{"$null", map[string]any{"Mode": 0o100644}}}, plist.XMLFormat)
	if err != nil {
		t.Fatal(err)
	}
	rawDoc := func(objects []any, root any) []byte {
		return mustBplist(t, map[string]any{"$top": map[string]any{"root": root}, "$objects": objects})
	}
	cases := map[string]struct {
		blob      []byte
		slowError bool
	}{
		"XML archive (valid: the slow path reads it)": {xmlDoc, false},
		"16-byte integer (valid)":                     {with16ByteInteger(t), false},
		"empty":                                       {nil, true},
		"truncated":                                   {apple[:len(apple)-1], true},
		"root cycle":                                  {rawDoc([]any{"$null", plist.UID(2), plist.UID(1)}, plist.UID(1)), true},
		"root out of range":                           {rawDoc([]any{"$null"}, plist.UID(9)), true},
		"8-byte references":                           {withRefSize8(t, apple), true},
		"garbage before the trailer":                  {withGarbageBeforeTrailer(apple), true},
		"self-containing array":                       {selfContainingArray(), true},
		"huge count":                                  {hugeCount(), true},
		"overlapping lists":                           {overlappingLists(), true},
		// Objects the MBFile does not use still have to decode: a null marker, an
		// array containing itself, lists nested deeper than decodePlist allows.
		"null object":   {withExtraObjects([]byte{0x00}), true},
		"cyclic object": {withExtraObjects(bpArrayOf(4)), true},
		"deep nesting":  {withExtraObjects(deepArrays(maxPlistDepth+1, 4)...), true},
		"integer key":   {withExtraObjects(bpDictOf([]int{5}, []int{5}), bpInteger(7, 1)), true},
		"dangling ref":  {withExtraObjects(bpArrayOf(200)), true},
		// A UTF-16 key whose low bytes spell NS.data is another key: no NS.data here.
		"UTF-16 key resembling NS.data": {handArchive([][]byte{bpString("$null"),
			bpDictOf([]int{2, 4}, []int{3, 5}), bpString("Mode"), bpInteger(0o100644, 4), bpString("Digest"), {0x80, 6},
			bpDictOf([]int{7}, []int{8}), bpUTF16String("NS.dat\u0161"), bpBytes([]byte{1, 2})}), true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var e Entry
			slowErr := decodeMBFile(c.blob, &e)
			if (slowErr != nil) != c.slowError {
				t.Fatalf("slow decoder: %v (the case says error=%v)", slowErr, c.slowError)
			}
			if compareFastSlow(t, name, c.blob, nil) {
				t.Fatal("the fast decoder accepted it")
			}
			// DecodeMBFile still decodes the valid ones, through the slow path.
			if err := DecodeMBFile(c.blob, &e); (err != nil) != c.slowError {
				t.Fatalf("DecodeMBFile: %v", err)
			}
		})
	}
}

// with16ByteInteger is an archive whose Size is a 16-byte integer (CoreFoundation
// writes values above MaxInt64 so); howett.net/plist reads its low half.
func with16ByteInteger(t testing.TB) []byte {
	a := newTestArchive()
	b := a.encode(t, map[string]any{"Mode": int64(0o100644), "Size": "SIZE-PLACEHOLDER"})
	// The 16-character string is stored as 0x5F 0x10 0x10 and its 16 bytes. Write the
	// integer 42 over it in place (0x14 and 16 bytes) so that no offset moves; the two
	// bytes left over belong to no object.
	at := bytes.Index(b, []byte("SIZE-PLACEHOLDER"))
	if at < 3 || !bytes.Equal(b[at-3:at], []byte{0x5F, 0x10, 0x10}) {
		t.Fatal("placeholder not found")
	}
	at -= 3
	b[at] = 0x14
	clear(b[at+1 : at+17])
	b[at+16] = 42
	return b
}

// withRefSize8 rewrites the trailer to claim 8-byte references.
func withRefSize8(t testing.TB, doc []byte) []byte {
	b := bytes.Clone(doc)
	b[len(b)-32+7] = 8
	return b
}

func withGarbageBeforeTrailer(doc []byte) []byte {
	n := len(doc)
	b := append(bytes.Clone(doc[:n-32]), 0)
	return append(b, doc[n-32:]...)
}

// buildBplist lays out objects (raw encodings), then the offset table and trailer.
func buildBplist(objects [][]byte, refSize int, top int) []byte {
	b := []byte("bplist00")
	offs := make([]int, len(objects))
	for i, o := range objects {
		offs[i] = len(b)
		b = append(b, o...)
	}
	return finishBplist(b, offs, refSize, top)
}

// finishBplist appends an offset table for offs and the trailer.
func finishBplist(b []byte, offs []int, refSize, top int) []byte {
	offSize := 1
	for 1<<(8*offSize) <= len(b) {
		offSize++
	}
	tableOff := len(b)
	for _, o := range offs {
		for k := offSize - 1; k >= 0; k-- {
			b = append(b, byte(o>>(8*k)))
		}
	}
	var t [32]byte
	t[6], t[7] = byte(offSize), byte(refSize)
	binary.BigEndian.PutUint64(t[8:], uint64(len(offs)))
	binary.BigEndian.PutUint64(t[16:], uint64(top))
	binary.BigEndian.PutUint64(t[24:], uint64(tableOff))
	return append(b, t[:]...)
}

// selfContainingArray is an array whose only element is itself.
func selfContainingArray() []byte {
	return buildBplist([][]byte{{0xA1, 0x00}}, 1, 0)
}

// hugeCount is a dictionary claiming 2^62 pairs.
func hugeCount() []byte {
	return buildBplist([][]byte{{0xDF, 0x13, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01}, {0x51, 'x'}}, 1, 0)
}

// overlappingLists is a list of 60,000 references to one string, with 60,000 offsets
// pointing into that list: only the two reachable objects may be examined.
func overlappingLists() []byte {
	const n = 60000
	b := []byte("bplist00")
	b = append(b, 0xAF, 0x11, byte(n>>8), byte(n&0xff)) // array of n 2-byte references
	listStart := len(b)
	for i := 0; i < n; i++ {
		b = append(b, 0x00, 0x01)
	}
	offs := make([]int, n)
	offs[0] = 8
	for i := 1; i < n; i++ {
		offs[i] = listStart + 2*i - 4 // lands inside the list: not a usable object
	}
	offs[1] = len(b)
	b = append(b, 0x51, 'x')
	return finishBplist(b, offs, 2, 0)
}

func TestFastMBFileWorkIsBounded(t *testing.T) {
	for name, doc := range map[string][]byte{
		"overlapping lists": overlappingLists(),
		"huge count":        hugeCount(),
		"apple":             appendBlob(t),
	} {
		var p bplist
		p.parse(doc, nil)
		if bound := workBound(doc); p.work > bound {
			t.Errorf("%s: parse examined %d objects and references, more than %d for %d bytes", name, p.work, bound, len(doc))
		}
	}
}

// workBound is what parse may examine for a document: checkBinaryPlist caps the
// expanded graph at 4 nodes per byte (+1024), and each object and reference is
// examined once.
func workBound(doc []byte) int { return 2 * (4*len(doc) + 1024) }

func FuzzFastMBFile(f *testing.F) {
	for _, v := range mbfileVariants(f) {
		f.Add(v.blob)
	}
	if blobs := sampleBlobsIfPresent(f); blobs != nil {
		// A spread of real records, and every one with attributes or a target.
		for i, b := range blobs {
			if i%97 == 0 || bytes.Contains(b, []byte("ExtendedAttributes")) && i%7 == 0 || bytes.Contains(b, []byte("Target")) {
				f.Add(b)
			}
		}
	}
	for _, b := range handVariants() {
		f.Add(b)
	}
	f.Add(with16ByteInteger(f))
	f.Add(selfContainingArray())
	f.Add(hugeCount())
	f.Add(overlappingLists())
	f.Add(withRefSize8(f, appendBlob(f)))
	f.Add([]byte("bplist00"))
	f.Add(mustBplist(f, map[string]any{"$top": map[string]any{"root": plist.UID(1)}, "$objects": []any{"$null", plist.UID(1)}}))
	f.Add(mustBplist(f, map[string]any{"$top": map[string]any{"root": plist.UID(1)},
		"$objects": []any{"$null", map[string]any{"Mode": uint64(math.MaxUint64), "Birth": 1.5}}}))
	mem := new(byteArena)
	f.Fuzz(func(t *testing.T, data []byte) {
		var p bplist
		p.parse(data, nil)
		if bound := workBound(data); p.work > bound {
			t.Fatalf("parse examined %d objects and references, more than %d", p.work, bound)
		}
		compareFastSlow(t, "input", data, mem)
	})
}

// sampleBlobsIfPresent is sampleBlobs for seeding: nil when the sample is missing.
func sampleBlobsIfPresent(t testing.TB) [][]byte {
	if _, err := os.Stat(mvtDB); err != nil {
		return nil
	}
	return sampleBlobs(t)
}

// Raw object encodings for hand-made archives: what plist.Marshal cannot produce
// (repeated keys, UTF-16 strings, chosen integer widths). References are 1 byte.
func bpString(s string) []byte {
	if len(s) < 15 {
		return append([]byte{0x50 | byte(len(s))}, s...)
	}
	return append([]byte{0x5F, 0x10, byte(len(s))}, s...)
}

func bpUTF16String(s string) []byte {
	units := utf16Units(s)
	b := []byte{0x60 | byte(len(units))}
	if len(units) >= 15 {
		b = []byte{0x6F, 0x10, byte(len(units))}
	}
	for _, u := range units {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
			continue
		}
		out = append(out, uint16(r))
	}
	return out
}

func bpInteger(v int64, size int) []byte {
	b := []byte{0x10 | map[int]byte{1: 0, 2: 1, 4: 2, 8: 3}[size]}
	for k := size - 1; k >= 0; k-- {
		b = append(b, byte(uint64(v)>>(8*k)))
	}
	return b
}

// bpDate encodes a date: seconds since 2001-01-01.
func bpDate(sinceAppleEpoch float64) []byte {
	b := []byte{0x33}
	return binary.BigEndian.AppendUint64(b, math.Float64bits(sinceAppleEpoch))
}

func bpBytes(d []byte) []byte {
	if len(d) < 15 {
		return append([]byte{0x40 | byte(len(d))}, d...)
	}
	return append([]byte{0x4F, 0x10, byte(len(d))}, d...)
}

// bpRefList encodes an array (0xA0) or dictionary (0xD0) of count items; refs are
// the item references (keys then values for a dictionary).
func bpRefList(marker byte, count int, refs ...int) []byte {
	b := []byte{marker | byte(count)}
	if count >= 15 {
		b = []byte{marker | 0xF, 0x10, byte(count)}
	}
	for _, r := range refs {
		b = append(b, byte(r))
	}
	return b
}

func bpArrayOf(refs ...int) []byte { return bpRefList(0xA0, len(refs), refs...) }

func bpDictOf(keys, vals []int) []byte { return bpRefList(0xD0, len(keys), append(keys, vals...)...) }

// handArchive builds an archive from raw objects: objects[0] must be "$null", the root
// is objects[1] (a dictionary given as key and value object numbers into objects).
// The document's own top dictionary and $objects array are added after them.
func handArchive(objects [][]byte, topKeys ...string) []byte {
	all := append([][]byte(nil), objects...)
	objArray := len(all)
	refs := make([]int, len(objects))
	for i := range refs {
		refs[i] = i
	}
	all = append(all, bpArrayOf(refs...))
	rootUID := len(all)
	all = append(all, []byte{0x80, 1})
	topDict := len(all)
	keyRoot := len(all) + 1
	all = append(all, bpDictOf([]int{keyRoot}, []int{rootUID}), bpString("root"))
	kObjects, kTop := len(all), len(all)+1
	all = append(all, bpString("$objects"), bpString("$top"))
	var keys, vals []int
	for _, k := range topKeys { // extra keys, before the right ones, naming the wrong objects
		switch k {
		case "$objects":
			keys, vals = append(keys, kObjects), append(vals, topDict)
		case "$top":
			keys, vals = append(keys, kTop), append(vals, objArray)
		}
	}
	keys, vals = append(keys, kObjects, kTop), append(vals, objArray, topDict)
	doc := len(all)
	all = append(all, bpDictOf(keys, vals))
	return buildBplist(all, 1, doc)
}

// handVariants are hand-made records the fast decoder must read exactly as the slow one.
func handVariants() map[string][]byte {
	out := map[string][]byte{}
	// objects: 0 $null, 1 root (dict), then keys and values from 2 on.
	build := func(pairs ...[]byte) []byte { // pairs: key, value, key, value...
		objects := [][]byte{bpString("$null"), nil}
		var keys, vals []int
		for i := 0; i < len(pairs); i += 2 {
			keys = append(keys, len(objects))
			objects = append(objects, pairs[i])
			vals = append(vals, len(objects))
			objects = append(objects, pairs[i+1])
		}
		objects[1] = bpDictOf(keys, vals)
		return handArchive(objects)
	}
	out["repeated keys: the last wins"] = build(
		bpString("Mode"), bpInteger(0o100644, 2), bpString("Size"), bpInteger(1, 1), bpString("Size"), bpInteger(2, 1),
		bpString("Mode"), bpInteger(0o040755, 4))
	out["UTF-16 keys and target"] = build(
		bpUTF16String("Mode"), bpInteger(0o120777, 4), bpUTF16String("Target"), bpUTF16String("/var/mobile/Média/ç😀"))
	out["empty digest, empty target"] = build(
		bpString("Mode"), bpInteger(0o100600, 4), bpString("Digest"), bpBytes(nil), bpString("Target"), bpString(""))
	out["negative 8-byte times, 4-byte real"] = build(
		bpString("Mode"), bpInteger(0o100600, 4), bpString("Birth"), bpInteger(-1, 8), bpString("LastModified"),
		[]byte{0x22, 0x47, 0x00, 0x00, 0x00}, bpString("LastStatusChange"), bpDate(-appleEpoch-0.5))
	out["non-ASCII key bytes, unknown keys"] = build(
		bpString("Mode"), bpInteger(0o100600, 4), bpString("Mod\xe9"), bpInteger(5, 1), bpUTF16String("Sizé"), bpInteger(6, 1),
		bpString("Flags"), bpInteger(0, 1))
	// "$null" written in UTF-16 is still the null placeholder when a UID leads to it.
	objects := [][]byte{bpUTF16String("$null"), nil, bpString("Mode"), bpInteger(0o100644, 4), bpString("Digest"), {0x80, 0}}
	objects[1] = bpDictOf([]int{2, 4}, []int{3, 5})
	out["UTF-16 $null"] = handArchive(objects)
	// The first $top is the $objects array and the first $objects the top dictionary:
	// only the last of each is right.
	out["repeated top keys"] = handArchive([][]byte{bpString("$null"), bpDictOf([]int{2}, []int{3}), bpString("Mode"), bpInteger(0o40755, 2)},
		"$top", "$objects")
	return out
}

func TestFastMBFileMatchesSlowOnHandmade(t *testing.T) {
	for name, blob := range handVariants() {
		if !compareFastSlow(t, name, blob, new(byteArena)) {
			var e Entry
			t.Errorf("%s: refused by the fast decoder (slow: %v)", name, decodeMBFile(blob, &e))
		}
	}
}

// withExtraObjects is a minimal valid archive (a directory) with more objects in
// $objects after its four own ones; they are objects 4 and up.
func withExtraObjects(extra ...[]byte) []byte {
	objects := [][]byte{bpString("$null"), bpDictOf([]int{2}, []int{3}), bpString("Mode"), bpInteger(0o40755, 2)}
	return handArchive(append(objects, extra...))
}

// deepArrays is depth arrays, each holding the next (object numbers from first).
func deepArrays(depth, first int) [][]byte {
	var out [][]byte
	for i := 0; i < depth-1; i++ {
		out = append(out, bpArrayOf(first+i+1))
	}
	return append(out, bpArrayOf())
}
