package decrypt

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseKeybagSamples(t *testing.T) {
	zero20 := make([]byte, 20)
	tests := []struct {
		file        string
		version     uint32
		dpsl        []byte
		dpic        uint32
		wantClasses []uint32 // CLAS & 0xF in file order
		wantRaw     []uint32 // CLAS as stored
		wantWrap    []uint32
	}{
		{
			file: "keybag_zeros.bin", version: 5, dpsl: zero20, dpic: 10_000_000,
			wantClasses: []uint32{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			wantRaw:     []uint32{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			wantWrap:    []uint32{3, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2},
		},
		{
			file: "keybag_zeros_before_10_2.bin", version: 3, dpsl: nil, dpic: 0,
			wantClasses: []uint32{11, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			wantRaw:     []uint32{11, 16, 9, 8, 7, 6, 5, 4, 3, 2, 1},
			wantWrap:    []uint32{3, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readSample(t, "vectors", tt.file)
			kb, err := ParseKeybag(data)
			if err != nil {
				t.Fatalf("ParseKeybag: %v", err)
			}
			if kb.Version != tt.version || kb.Type != 1 || kb.Iter != 10_000 || kb.DPIC != tt.dpic {
				t.Errorf("VERS %d TYPE %d ITER %d DPIC %d; want %d 1 10000 %d", kb.Version, kb.Type, kb.Iter, kb.DPIC, tt.version, tt.dpic)
			}
			if !bytes.Equal(kb.Salt, zero20) || !bytes.Equal(kb.DPSL, tt.dpsl) || (kb.DPSL == nil) != (tt.dpsl == nil) {
				t.Errorf("SALT %x DPSL %x", kb.Salt, kb.DPSL)
			}
			if len(kb.UUID) != 16 || len(kb.HMCK) != 40 {
				t.Errorf("UUID %d bytes, HMCK %d bytes; want 16, 40", len(kb.UUID), len(kb.HMCK))
			}
			if len(kb.UnknownTags) != 0 {
				t.Errorf("unknown tags %v", kb.UnknownTags)
			}
			var classes, raw, wraps []uint32
			for _, c := range kb.Classes {
				classes = append(classes, c.Class)
				raw = append(raw, c.RawClass)
				wraps = append(wraps, c.Wrap)
				if len(c.WrappedKey) != WrappedKeySize || len(c.UUID) != 16 || c.PublicKey != nil || c.KeyType != 0 {
					t.Errorf("class %d: WPKY %d bytes, UUID %d bytes, PBKY %x, KTYP %d", c.Class, len(c.WrappedKey), len(c.UUID), c.PublicKey, c.KeyType)
				}
			}
			if !slices.Equal(classes, tt.wantClasses) || !slices.Equal(raw, tt.wantRaw) || !slices.Equal(wraps, tt.wantWrap) {
				t.Errorf("classes %v raw %v wraps %v", classes, raw, wraps)
			}

			// Values are copies: scribbling over the input changes nothing.
			salt := bytes.Clone(kb.Salt)
			for i := range data {
				data[i] = 0xFF
			}
			if !bytes.Equal(kb.Salt, salt) {
				t.Error("Keybag aliases its input")
			}
		})
	}
}

// recordBoundaries returns the offsets where a TLV record starts (and the end).
func recordBoundaries(t *testing.T, data []byte) map[int]bool {
	t.Helper()
	b := map[int]bool{0: true}
	for off := 0; off+8 <= len(data); {
		n := int(uint32(data[off+4])<<24 | uint32(data[off+5])<<16 | uint32(data[off+6])<<8 | uint32(data[off+7]))
		off += 8 + n
		b[off] = true
	}
	return b
}

func TestParseKeybagTruncated(t *testing.T) {
	for _, file := range []string{"keybag_zeros.bin", "keybag_zeros_before_10_2.bin"} {
		data := readSample(t, "vectors", file)
		full, err := ParseKeybag(data)
		if err != nil {
			t.Fatal(err)
		}
		boundaries := recordBoundaries(t, data)
		for cut := 0; cut < len(data); cut++ {
			kb, err := ParseKeybag(data[:cut])
			if !boundaries[cut] {
				// Cut inside a record: always an error.
				if err == nil || !errors.Is(err, ErrBadKeybag) {
					t.Fatalf("%s cut at %d: err = %v, want ErrBadKeybag", file, cut, err)
				}
				continue
			}
			// Cut between records: a shorter keybag may be valid (there is no
			// count to tell it is incomplete), but it is a prefix of the full
			// one: fewer entries, or the last one lacks its wrapped key.
			if err != nil {
				continue
			}
			n := len(kb.Classes)
			if n > len(full.Classes) || (n == len(full.Classes) && kb.Classes[n-1].WrappedKey != nil) {
				t.Fatalf("%s cut at %d: parsed as complete (%d classes)", file, cut, n)
			}
			for i := 0; i+1 < n; i++ {
				if !bytes.Equal(kb.Classes[i].WrappedKey, full.Classes[i].WrappedKey) || kb.Classes[i].RawClass != full.Classes[i].RawClass {
					t.Fatalf("%s cut at %d: class entry %d differs from the full keybag's", file, cut, i)
				}
			}
		}
	}
}

func TestParseKeybagHostile(t *testing.T) {
	hdr := []tlv{{"VERS", u32(5)}, {"TYPE", u32(1)}, {"UUID", make([]byte, 16)}, {"SALT", make([]byte, 20)}, {"ITER", u32(10000)}}
	entry := func(class uint32) []tlv {
		return []tlv{{"UUID", make([]byte, 16)}, {"CLAS", u32(class)}, {"WRAP", u32(2)}, {"KTYP", u32(0)}, {"WPKY", make([]byte, 40)}}
	}
	cat := func(parts ...[]tlv) []byte {
		var all []tlv
		for _, p := range parts {
			all = append(all, p...)
		}
		return encodeKeybag(all...)
	}
	tooMany := [][]tlv{hdr}
	for i := 0; i <= MaxClassEntries; i++ {
		tooMany = append(tooMany, entry(uint32(i)))
	}

	tests := []struct {
		name string
		data []byte
		want string // substring of the error
	}{
		{"empty", nil, "empty"},
		{"huge", make([]byte, MaxKeybagSize+1), "allowed"},
		{"length past end", append(encodeKeybag(hdr...), "SALT\xff\xff\xff\xf0"...), "runs past the end"},
		{"non-ASCII tag", encodeKeybag(tlv{"VE\x00S", u32(5)}), "not printable"},
		{"short uint32", encodeKeybag(tlv{"ITER", []byte{1, 2}}), "want 4"},
		{"long uint32", encodeKeybag(tlv{"DPIC", make([]byte, 8)}), "want 4"},
		{"duplicate header tag", cat(hdr, []tlv{{"SALT", make([]byte, 20)}}), "duplicate"},
		{"duplicate class tag", cat(hdr, entry(1), []tlv{{"WPKY", make([]byte, 40)}}), "duplicate"},
		{"entry without CLAS", cat(hdr, []tlv{{"UUID", make([]byte, 16)}, {"WPKY", make([]byte, 40)}}, entry(2)), "no CLAS"},
		{"last entry without CLAS", cat(hdr, entry(1), []tlv{{"UUID", make([]byte, 16)}}), "no CLAS"},
		{"too many entries", cat(tooMany...), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kb, err := ParseKeybag(tt.data)
			if err == nil || !errors.Is(err, ErrBadKeybag) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseKeybag = %v, %v; want ErrBadKeybag mentioning %q", kb, err, tt.want)
			}
		})
	}

	// Unknown tags are skipped and listed, not fatal.
	kb, err := ParseKeybag(cat(hdr, []tlv{{"ZZZZ", []byte("x")}}, entry(3), []tlv{{"NEWT", nil}}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kb.UnknownTags, []string{"ZZZZ", "NEWT"}) || len(kb.Classes) != 1 || kb.Classes[0].Class != 3 {
		t.Errorf("unknown tags %v, classes %+v", kb.UnknownTags, kb.Classes)
	}
}

// reencode writes a parsed keybag back in TLV form (known fields only).
func reencode(kb *Keybag) []byte {
	var recs []tlv
	recs = append(recs, tlv{"VERS", u32(kb.Version)}, tlv{"TYPE", u32(kb.Type)})
	if kb.UUID != nil {
		recs = append(recs, tlv{"UUID", kb.UUID})
	}
	for _, r := range []tlv{{"HMCK", kb.HMCK}, {"SALT", kb.Salt}, {"DPSL", kb.DPSL}} {
		if r.val != nil {
			recs = append(recs, r)
		}
	}
	recs = append(recs, tlv{"WRAP", u32(kb.Wrap)}, tlv{"ITER", u32(kb.Iter)}, tlv{"DPWT", u32(kb.DPWT)}, tlv{"DPIC", u32(kb.DPIC)})
	for _, c := range kb.Classes {
		recs = append(recs, tlv{"UUID", c.UUID}, tlv{"CLAS", u32(c.RawClass)}, tlv{"WRAP", u32(c.Wrap)}, tlv{"KTYP", u32(c.KeyType)})
		if c.WrappedKey != nil {
			recs = append(recs, tlv{"WPKY", c.WrappedKey})
		}
		if c.PublicKey != nil {
			recs = append(recs, tlv{"PBKY", c.PublicKey})
		}
	}
	return encodeKeybag(recs...)
}

func sameKeybag(a, b *Keybag) bool {
	if a.Version != b.Version || a.Type != b.Type || a.Wrap != b.Wrap || a.Iter != b.Iter || a.DPWT != b.DPWT || a.DPIC != b.DPIC ||
		!bytes.Equal(a.UUID, b.UUID) || !bytes.Equal(a.HMCK, b.HMCK) || !bytes.Equal(a.Salt, b.Salt) || !bytes.Equal(a.DPSL, b.DPSL) ||
		(a.DPSL == nil) != (b.DPSL == nil) || len(a.Classes) != len(b.Classes) {
		return false
	}
	for i := range a.Classes {
		x, y := a.Classes[i], b.Classes[i]
		if x.Class != y.Class || x.RawClass != y.RawClass || x.Wrap != y.Wrap || x.KeyType != y.KeyType ||
			!bytes.Equal(x.UUID, y.UUID) || !bytes.Equal(x.WrappedKey, y.WrappedKey) || !bytes.Equal(x.PublicKey, y.PublicKey) ||
			(x.WrappedKey == nil) != (y.WrappedKey == nil) || (x.PublicKey == nil) != (y.PublicKey == nil) {
			return false
		}
	}
	return true
}

func FuzzParseKeybag(f *testing.F) {
	for _, file := range []string{"keybag_zeros.bin", "keybag_zeros_before_10_2.bin"} {
		f.Add(readSample(f, "vectors", file))
	}
	f.Add(encodeKeybag(tlv{"UUID", nil}, tlv{"UUID", nil}, tlv{"CLAS", u32(0xFFFFFFFF)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		kb, err := ParseKeybag(data)
		if err != nil {
			if !errors.Is(err, ErrBadKeybag) {
				t.Fatalf("error does not wrap ErrBadKeybag: %v", err)
			}
			return
		}
		if len(kb.Classes) > MaxClassEntries {
			t.Fatalf("%d classes", len(kb.Classes))
		}
		for _, c := range kb.Classes {
			if c.Class > 15 || c.Class != c.RawClass&0xF {
				t.Fatalf("class %d from CLAS %d", c.Class, c.RawClass)
			}
		}
		// What was parsed survives a round trip through the TLV format.
		again, err := ParseKeybag(reencode(kb))
		if err != nil {
			t.Fatalf("re-encoded keybag does not parse: %v", err)
		}
		if !sameKeybag(kb, again) {
			t.Fatalf("round trip changed the keybag:\n%+v\n%+v", kb, again)
		}
		// The KDF checks never panic either (no rounds are run here).
		_ = kb.CheckKDF()
	})
}
