package manifest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// mbdbRecord is a Manifest.mbdb record as the test writes it; nil strings are null.
type mbdbRecord struct {
	domain, path, target, hash, key []byte
	mode                            uint16
	inode                           uint64
	uid, gid                        uint32
	mtime, ctime, birth             uint32
	size                            uint64
	class                           uint8
	props                           [][2][]byte
}

// writeMBDB is an independent little writer of the format in backup-format.md. It
// returns the file and the byte offset at which each record starts.
func writeMBDB(recs []mbdbRecord) ([]byte, []int) {
	var b bytes.Buffer
	b.WriteString("mbdb\x05\x00")
	str := func(s []byte) {
		if s == nil {
			binary.Write(&b, binary.BigEndian, uint16(0xFFFF))
			return
		}
		binary.Write(&b, binary.BigEndian, uint16(len(s)))
		b.Write(s)
	}
	var starts []int
	for _, r := range recs {
		starts = append(starts, b.Len())
		str(r.domain)
		str(r.path)
		str(r.target)
		str(r.hash)
		str(r.key)
		for _, v := range []any{r.mode, r.inode, r.uid, r.gid, r.mtime, r.ctime, r.birth, r.size, r.class, uint8(len(r.props))} {
			binary.Write(&b, binary.BigEndian, v)
		}
		for _, p := range r.props {
			str(p[0])
			str(p[1])
		}
	}
	return b.Bytes(), starts
}

func mbdbSample() ([]mbdbRecord, []Entry) {
	key := key44(3, 0x20)
	key0 := key44(2, 0x60)
	hash := bytes.Repeat([]byte{0x5A}, 20)
	long := bytes.Repeat([]byte("d/"), 0xFFFE/2) // the longest string there can be
	recs := []mbdbRecord{
		{domain: []byte("HomeDomain"), path: []byte("Library/SMS/sms.db"), hash: hash, key: key,
			mode: 0o100644, inode: 1 << 40, uid: 501, gid: 501, mtime: 1400000001, ctime: 1400000002, birth: 1400000000,
			size: 1 << 33, class: 3, props: [][2][]byte{{[]byte("com.apple.test"), []byte{0, 1, 2}}, {[]byte("empty"), nil}}},
		{domain: []byte("HomeDomain"), path: nil, mode: 0o40755}, // domain root, null path
		{domain: []byte("AppDomain-com.x"), path: []byte("Library/link"), target: []byte("/var/mobile/x"),
			hash: []byte{}, key: []byte{}, mode: 0o120755, uid: 4294967294, gid: 4294967294},
		{domain: []byte("MediaDomain"), path: []byte("DCIM/IMG_0001.JPG"), key: key0, mode: 0o100600, class: 0, size: 9},
		{domain: []byte("HomeDomain"), path: []byte("fifo"), mode: 0o010644}, // not shown: counted
		{domain: []byte("HomeDomain"), path: long[:0xFFFE], mode: 0o100644},
	}
	want := []Entry{
		{Domain: "HomeDomain", Path: "Library/SMS/sms.db", ID: ComputeFileID("HomeDomain", "Library/SMS/sms.db"),
			Kind: KindFile, Mode: 0o100644, UID: 501, GID: 501, Inode: 1 << 40, Size: 1 << 33,
			Birth: 1400000000, MTime: 1400000001, CTime: 1400000002, ProtectionClass: 3, WrappedKey: (*[WrappedKeyLen]byte)(key[4:]),
			Extra: &EntryExtra{Digest: hash, XAttrs: map[string][]byte{"com.apple.test": {0, 1, 2}, "empty": {}}}},
		{Domain: "HomeDomain", Path: "", ID: ComputeFileID("HomeDomain", ""), Kind: KindDir, Mode: 0o40755},
		{Domain: "AppDomain-com.x", Path: "Library/link", ID: ComputeFileID("AppDomain-com.x", "Library/link"),
			Kind: KindSymlink, Mode: 0o120755, UID: 4294967294, GID: 4294967294, Extra: &EntryExtra{Target: "/var/mobile/x"}},
		{Domain: "MediaDomain", Path: "DCIM/IMG_0001.JPG", ID: ComputeFileID("MediaDomain", "DCIM/IMG_0001.JPG"),
			Kind: KindFile, Mode: 0o100600, Size: 9, ProtectionClass: 2, WrappedKey: (*[WrappedKeyLen]byte)(key0[4:])},
		{Domain: "HomeDomain", Path: string(long[:0xFFFE]), ID: ComputeFileID("HomeDomain", string(long[:0xFFFE])),
			Kind: KindFile, Mode: 0o100644},
	}
	return recs, want
}

func readMBDBAll(data []byte) ([]Entry, MBDBStats, error) {
	var out []Entry
	st, err := ReadMBDB(bytes.NewReader(data), func(e *Entry) error {
		out = append(out, *e)
		return nil
	})
	return out, st, err
}

func TestReadMBDB(t *testing.T) {
	recs, want := mbdbSample()
	data, _ := writeMBDB(recs)
	got, st, err := readMBDBAll(data)
	if err != nil {
		t.Fatal(err)
	}
	// The record of no type is named, not just counted.
	if d := st.Dropped.Rows(); len(d) != 1 || d[0].Reason != DropNoType || d[0].Row == 0 || d[0].Domain == "" {
		t.Fatalf("dropped %v", st.Dropped)
	}
	st.Dropped = nil
	if st != (MBDBStats{Records: 6, Entries: 5, BadMode: 1}) {
		t.Fatalf("stats %+v", st)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(normalize(got[i]), normalize(want[i])) {
			t.Errorf("entry %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// One string per domain.
	if unsafe.StringData(got[0].Domain) != unsafe.StringData(got[1].Domain) {
		t.Error("domain strings not interned")
	}
}

func TestReadMBDBEmptyAndHeader(t *testing.T) {
	if _, st, err := readMBDBAll([]byte("mbdb\x05\x00")); err != nil || st.Records != 0 {
		t.Fatalf("empty list: %+v %v", st, err)
	}
	for _, bad := range []string{"", "mbdb", "mbdb\x04\x00", "MBDB\x05\x00", "mbdx\x02\x00"} {
		if _, _, err := readMBDBAll([]byte(bad)); err == nil || !strings.Contains(err.Error(), "header") {
			t.Errorf("header %q: %v", bad, err)
		}
	}
}

// TestReadMBDBTruncated cuts the file at every byte: a cut between records is a
// shorter list, any other cut an error naming the record and its offset.
func TestReadMBDBTruncated(t *testing.T) {
	recs, _ := mbdbSample()
	recs = recs[:5] // leave out the 64 KB path: every cut is tried
	data, starts := writeMBDB(recs)
	boundary := map[int]int{len(data): len(recs)} // offset -> records before it
	for i, s := range starts {
		boundary[s] = i
	}
	for cut := 0; cut < len(data); cut++ {
		_, st, err := readMBDBAll(data[:cut])
		if n, ok := boundary[cut]; ok {
			if err != nil || st.Records != n {
				t.Fatalf("cut at record boundary %d: %+v %v", cut, st, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("cut at %d: no error", cut)
		}
		if cut < 6 {
			continue // inside the header
		}
		// Which record was cut, and where it started.
		rec := 0
		for i, s := range starts {
			if s < cut {
				rec = i
			}
		}
		wantMsg := fmt.Sprintf("record %d at byte offset %d: truncated at byte offset %d", rec+1, starts[rec], cut)
		if !strings.Contains(err.Error(), wantMsg) {
			t.Fatalf("cut at %d: %q does not say %q", cut, err, wantMsg)
		}
	}
}

func TestReadMBDBBadValues(t *testing.T) {
	for name, rec := range map[string]mbdbRecord{
		"key of 43 bytes": {domain: []byte("HomeDomain"), path: []byte("a"), key: make([]byte, 43), mode: 0o100644},
		"null domain":     {domain: nil, path: []byte("a"), mode: 0o100644},
		"size over int64": {domain: []byte("HomeDomain"), path: []byte("a"), mode: 0o100644, size: 1 << 63},
	} {
		good := mbdbRecord{domain: []byte("HomeDomain"), mode: 0o40755}
		data, starts := writeMBDB([]mbdbRecord{good, rec})
		_, _, err := readMBDBAll(data)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("record 2 at byte offset %d", starts[1])) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An error from fn stops the read and comes back unchanged.
	recs, _ := mbdbSample()
	data, _ := writeMBDB(recs)
	stop := errors.New("stop")
	if _, err := ReadMBDB(bytes.NewReader(data), func(*Entry) error { return stop }); err != stop {
		t.Fatalf("fn error: %v", err)
	}
}

func FuzzReadMBDB(f *testing.F) {
	recs, _ := mbdbSample()
	data, starts := writeMBDB(recs[:5])
	f.Add(data)
	f.Add(data[:starts[2]+7])
	f.Add([]byte("mbdb\x05\x00"))
	f.Add([]byte("mbdb\x05\x00\xff\xff"))
	// Hostile records (issue 10): domains that are no folder name, a duplicate, a path
	// inside a file, a FIFO. Each is left out of the index and counted.
	hostile := []mbdbRecord{
		{domain: []byte("HomeDomain"), path: []byte("Library/SMS/sms.db"), mode: 0o100644},
		{domain: []byte("."), path: []byte("HomeDomain/Library/SMS/sms.db"), mode: 0o100644},
		{domain: []byte(".."), path: []byte("escaped"), mode: 0o100644},
		{domain: []byte(""), path: []byte("x"), mode: 0o100644},
		{domain: []byte("a/b"), path: []byte("x"), mode: 0o100644},
		{domain: []byte("HomeDomain"), path: []byte("Library/SMS/sms.db"), mode: 0o100600},
		{domain: []byte("HomeDomain"), path: []byte("Library/SMS/sms.db/inner"), mode: 0o100644},
		{domain: []byte("HomeDomain"), path: []byte("Library/../x"), mode: 0o100644},
		{domain: []byte("HomeDomain"), path: []byte("Library/fifo"), mode: 0o010644},
	}
	data, _ = writeMBDB(hostile)
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		var entries []Entry
		st, _ := ReadMBDB(bytes.NewReader(data), func(e *Entry) error {
			if e.ID != ComputeFileID(e.Domain, e.Path) {
				t.Fatal("ID is not SHA-1(domain-path)")
			}
			if e.Kind == 0 || e.Kind != kindFromMode(e.Mode) || e.Size < 0 {
				t.Fatalf("bad entry %+v", e)
			}
			entries = append(entries, *e)
			return nil
		})
		if st.Dropped.Total() != st.BadMode {
			t.Fatalf("%d records of no type, %d reported", st.BadMode, st.Dropped.Total())
		}
		// Every entry is in the index or reported as left out; what is in it has a
		// valid domain and path.
		n := len(entries)
		ix, ist := NewIndex(entries)
		kept := 0
		for i := int32(0); i < int32(ix.Len()); i++ {
			e := ix.Entry(i)
			if !ValidDomain(e.Domain) || !ValidPath(e.Path) {
				t.Fatalf("index holds %q %q", e.Domain, e.Path)
			}
			if !e.Synthetic {
				kept++
			}
		}
		if kept+ist.Dropped.Total() != n {
			t.Fatalf("%d entries read, %d in the index, %d reported left out", n, kept, ist.Dropped.Total())
		}
	})
}
