package decrypt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The sample keybags were made by wrapping 32 zero bytes as every class key
// with the KEK of password "0000" (samples README).
const samplePassword = "0000"

var zeroKey = make([]byte, 32)

func checkZeroClassKeys(t *testing.T, kb *Keybag, ck *ClassKeys) {
	t.Helper()
	var want []uint32
	for _, c := range kb.Classes {
		if c.Wrap&WrapPasscode != 0 {
			want = append(want, c.Class)
			key, ok := ck.Key(c.Class)
			if !ok || !bytes.Equal(key, zeroKey) {
				t.Errorf("class %d key = %x, %v; want 32 zero bytes", c.Class, key, ok)
			}
		}
	}
	slices.Sort(want)
	if got := ck.Classes(); !slices.Equal(got, want) {
		t.Errorf("Classes() = %v, want %v", got, want)
	}
	if p := ck.Problems(); len(p) != 0 {
		t.Errorf("Problems() = %v", p)
	}
	if _, ok := ck.Key(12); ok {
		t.Error("Key(12) found a key the keybag does not have")
	}
}

func parseSampleKeybag(t *testing.T, file string) *Keybag {
	t.Helper()
	kb, err := ParseKeybag(readSample(t, "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

func TestUnlockSampleBefore10_2(t *testing.T) {
	kb := parseSampleKeybag(t, "keybag_zeros_before_10_2.bin")
	kek, err := kb.DeriveKEK([]byte(samplePassword))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := kb.Unlock(kek)
	if err != nil {
		t.Fatal(err)
	}
	checkZeroClassKeys(t, kb, ck)

	for _, pw := range []string{"0001", "", "00000", "hashcat"} {
		kek, err := kb.DeriveKEK([]byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		if ck, err := kb.Unlock(kek); !errors.Is(err, ErrWrongPassword) || ck != nil {
			t.Errorf("password %q: Unlock = %v, %v; want ErrWrongPassword", pw, ck, err)
		}
	}
}

// The iOS 10.2+ sample costs 10,000,000 SHA-256 rounds (~3 s): derived once
// per test binary, and not at all under -short.
var sample10_2 struct {
	once sync.Once
	kek  []byte
	err  error
}

func sample10_2KEK(t *testing.T, kb *Keybag) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("10,000,000-round KDF of the iOS 10.2+ sample keybag skipped with -short")
	}
	sample10_2.once.Do(func() { sample10_2.kek, sample10_2.err = kb.DeriveKEK([]byte(samplePassword)) })
	if sample10_2.err != nil {
		t.Fatal(sample10_2.err)
	}
	return sample10_2.kek
}

func TestUnlockSample10_2(t *testing.T) {
	kb := parseSampleKeybag(t, "keybag_zeros.bin")
	ck, err := kb.Unlock(sample10_2KEK(t, kb))
	if err != nil {
		t.Fatal(err)
	}
	checkZeroClassKeys(t, kb, ck)
}

func TestUnlockSample10_2NeedsDPSLStage(t *testing.T) {
	// Deriving the KEK as if the keybag were pre-10.2 (skipping the SHA-256
	// stage) must not open it: proof that DPSL/DPIC are used, cheaply.
	kb := parseSampleKeybag(t, "keybag_zeros.bin")
	old := *kb
	old.DPSL, old.DPIC = nil, 0
	kek, err := old.DeriveKEK([]byte(samplePassword))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kb.Unlock(kek); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Unlock with a KEK that skipped DPSL: %v, want ErrWrongPassword", err)
	}
}

// hashcatVector is one $itunes_backup$ line of hashcat modes 14700/14800.
type hashcatVector struct {
	line     string
	kb       *Keybag
	wpky     []byte
	password string
}

func parseHashcatVectors(t *testing.T) []hashcatVector {
	t.Helper()
	f, err := os.Open(filepath.Join(samplesDir, "vectors", "itunes_backup_vectors.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hashcatVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		colon := strings.LastIndexByte(line, ':')
		if colon < 0 || !strings.HasPrefix(line, "$itunes_backup$*") {
			t.Fatalf("bad vector line %q", line)
		}
		fields := strings.Split(line[len("$itunes_backup$*"):colon], "*")
		if len(fields) != 6 {
			t.Fatalf("vector %q: %d fields, want 6", line, len(fields))
		}
		iter, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		kb := &Keybag{Salt: mustHex(t, fields[3]), Iter: uint32(iter)}
		switch fields[0] {
		case "9":
			if fields[4] != "" || fields[5] != "" {
				t.Fatalf("vector %q: *9* with DPIC/DPSL", line)
			}
		case "10":
			dpic, err := strconv.ParseUint(fields[4], 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			kb.DPIC, kb.DPSL = uint32(dpic), mustHex(t, fields[5])
		default:
			t.Fatalf("vector %q: version %q", line, fields[0])
		}
		wpky := mustHex(t, fields[1])
		kb.Classes = []ClassKey{{Class: 3, RawClass: 3, Wrap: WrapPasscode, WrappedKey: wpky}}
		out = append(out, hashcatVector{line: line, kb: kb, wpky: wpky, password: line[colon+1:]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHashcatVectors(t *testing.T) {
	vectors := parseHashcatVectors(t)
	var pre10_2, post10_2 int
	for _, v := range vectors {
		if v.kb.DPSL != nil {
			post10_2++
		} else {
			pre10_2++
		}
	}
	if pre10_2 == 0 || post10_2 == 0 {
		t.Fatalf("want both *9* and *10* vectors, got %d and %d", pre10_2, post10_2)
	}
	for i, v := range vectors {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			// The vectors in the file use 1,000 DPIC rounds; a 10M-round
			// vector would cost seconds each, so only without -short.
			if v.kb.DPIC > 1_000_000 && testing.Short() {
				t.Skipf("DPIC %d skipped with -short", v.kb.DPIC)
			}
			kek, err := v.kb.DeriveKEK([]byte(v.password))
			if err != nil {
				t.Fatal(err)
			}
			key, err := Unwrap(kek, v.wpky)
			if err != nil || len(key) != 32 {
				t.Fatalf("Unwrap with password %q: %x, %v", v.password, key, err)
			}
			if _, err := v.kb.Unlock(kek); err != nil {
				t.Fatalf("Unlock: %v", err)
			}

			bad, err := v.kb.DeriveKEK([]byte(v.password + "x"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Unwrap(bad, v.wpky); !errors.Is(err, ErrUnwrapIntegrity) {
				t.Fatalf("Unwrap with a wrong password: %v, want ErrUnwrapIntegrity", err)
			}
			if _, err := v.kb.Unlock(bad); !errors.Is(err, ErrWrongPassword) {
				t.Fatalf("Unlock with a wrong password: %v, want ErrWrongPassword", err)
			}
		})
	}
}

func TestDeriveKEKRefusesBadParameters(t *testing.T) {
	salt := make([]byte, 20)
	tests := []struct {
		name string
		kb   Keybag
		want string
	}{
		// 4e9 rounds would take the better part of an hour: if the bound were
		// checked after the KDF, this test would time out instead of failing.
		{"ITER 4e9", Keybag{Salt: salt, Iter: 4_000_000_000}, "ITER asks for 4000000000 rounds"},
		{"DPIC 4e9", Keybag{Salt: salt, Iter: 10000, DPSL: salt, DPIC: 4_000_000_000}, "DPIC asks for 4000000000 rounds"},
		{"ITER just over", Keybag{Salt: salt, Iter: MaxSHA1Rounds + 1}, "ITER asks"},
		{"DPIC just over", Keybag{Salt: salt, Iter: 10000, DPSL: salt, DPIC: MaxSHA256Rounds + 1}, "DPIC asks"},
		{"ITER 0", Keybag{Salt: salt}, "ITER is 0"},
		{"DPIC 0", Keybag{Salt: salt, Iter: 10000, DPSL: salt}, "DPIC is 0"},
		{"no SALT", Keybag{Iter: 10000}, "SALT is missing"},
		{"empty SALT", Keybag{Salt: []byte{}, Iter: 10000}, "SALT is 0 bytes"},
		{"huge SALT", Keybag{Salt: make([]byte, 1000), Iter: 10000}, "SALT is 1000 bytes"},
		{"short DPSL", Keybag{Salt: salt, Iter: 10000, DPSL: make([]byte, 3), DPIC: 1000}, "DPSL is 3 bytes"},
		{"DPIC without DPSL", Keybag{Salt: salt, Iter: 10000, DPIC: 1000}, "DPSL is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kek, err := tt.kb.DeriveKEK([]byte("pw"))
			if err == nil || kek != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DeriveKEK = %x, %v; want an error mentioning %q", kek, err, tt.want)
			}
			if err := tt.kb.CheckKDF(); err == nil {
				t.Fatal("CheckKDF accepted what DeriveKEK refused")
			}
		})
	}
	// The bounds themselves are allowed (checked only, not run).
	ok := Keybag{Salt: salt, Iter: MaxSHA1Rounds, DPSL: salt, DPIC: MaxSHA256Rounds}
	if err := ok.CheckKDF(); err != nil {
		t.Fatalf("CheckKDF at the bounds: %v", err)
	}
}

// wrapKeybag builds a keybag whose class keys are wrapped with kekFor(class).
func wrapKeybag(t *testing.T, entries []ClassKey, keys [][]byte, keks [][]byte) *Keybag {
	t.Helper()
	kb := &Keybag{Salt: make([]byte, 20), Iter: 1}
	for i, e := range entries {
		if keys[i] != nil {
			w, err := Wrap(keks[i], keys[i])
			if err != nil {
				t.Fatal(err)
			}
			e.WrappedKey = w
		}
		e.RawClass = e.Class
		kb.Classes = append(kb.Classes, e)
	}
	return kb
}

func TestUnlockErrorsAndPartialKeybags(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kek, other := randomBytes(rng, 32), randomBytes(rng, 32)
	k1, k2, k3 := randomBytes(rng, 32), randomBytes(rng, 32), randomBytes(rng, 32)

	good := wrapKeybag(t, []ClassKey{{Class: 1, Wrap: 2}}, [][]byte{k1}, [][]byte{kek})
	for _, n := range []int{0, 16, 24, 31, 33} {
		_, err := good.Unlock(make([]byte, n))
		if err == nil || errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), fmt.Sprintf("is %d bytes", n)) {
			t.Errorf("Unlock with %d-byte KEK: %v, want a size error", n, err)
		}
	}

	deviceOnly := wrapKeybag(t, []ClassKey{{Class: 1, Wrap: WrapDevice}}, [][]byte{k1}, [][]byte{kek})
	if _, err := deviceOnly.Unlock(kek); err == nil || errors.Is(err, ErrWrongPassword) {
		t.Errorf("Unlock of a keybag without passcode-wrapped keys: %v", err)
	}

	badSize := &Keybag{Classes: []ClassKey{{Class: 1, Wrap: 2, WrappedKey: make([]byte, 32)}}}
	if _, err := badSize.Unlock(kek); err == nil || errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), "WPKY is 32 bytes") {
		t.Errorf("Unlock with only a 32-byte WPKY: %v", err)
	}

	// One class wrapped with another KEK, a conflicting duplicate, a device-only
	// entry (skipped silently) and a good entry: the good ones open, the rest
	// is reported.
	mixed := wrapKeybag(t,
		[]ClassKey{{Class: 1, Wrap: 2}, {Class: 2, Wrap: 2}, {Class: 1, Wrap: 3}, {Class: 4, Wrap: 1}, {Class: 3, Wrap: 3}},
		[][]byte{k1, k2, k3, k3, k3},
		[][]byte{kek, other, kek, kek, kek})
	ck, err := mixed.Unlock(kek)
	if err != nil {
		t.Fatal(err)
	}
	if got := ck.Classes(); !slices.Equal(got, []uint32{1, 3}) {
		t.Errorf("Classes() = %v, want [1 3]", got)
	}
	if key, _ := ck.Key(1); !bytes.Equal(key, k1) {
		t.Error("class 1: the first entry's key was not kept")
	}
	if key, _ := ck.Key(3); !bytes.Equal(key, k3) {
		t.Error("class 3: wrong key")
	}
	problems := ck.Problems()
	if len(problems) != 2 || !errors.Is(problems[0], ErrUnwrapIntegrity) || !strings.Contains(problems[1].Error(), "different key") {
		t.Errorf("Problems() = %v", problems)
	}
	if _, err := mixed.Unlock(other); err != nil { // class 2 opens with the other KEK
		t.Errorf("Unlock with the other KEK: %v", err)
	}
}

func TestUnwrapFileKey(t *testing.T) {
	kb := parseSampleKeybag(t, "keybag_zeros_before_10_2.bin")
	kek, err := kb.DeriveKEK([]byte(samplePassword))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := kb.Unlock(kek)
	if err != nil {
		t.Fatal(err)
	}

	// ManifestKey of the encrypted-synthetic-pw0000 sample (Manifest.plist):
	// class 2 (uint32 LE prefix), then the wrapped key. Its class key is 32
	// zero bytes, and the key it wraps decrypts that backup's Manifest.db.
	manifestKey := mustHex(t, "0200000097317494343807e690fd1e431413963dc0e3deb4907fb89fa36ce65126d0ea1301381fb3a2941e2f")
	key, err := ck.UnwrapFileKey(2, manifestKey[4:])
	if err != nil {
		t.Fatal(err)
	}
	db := readSample(t, "encrypted-synthetic-pw0000", "Manifest.db")
	plain, err := DecryptRaw(db, key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(plain, []byte("SQLite format 3\x00")) {
		t.Fatalf("Manifest.db decrypted with the ManifestKey starts %q", plain[:16])
	}

	rng := rand.New(rand.NewPCG(3, 4))
	fileKey := randomBytes(rng, 32)
	wrapped, err := Wrap(zeroKey, fileKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, class := range ck.Classes() {
		got, err := ck.UnwrapFileKey(class, wrapped)
		if err != nil || !bytes.Equal(got, fileKey) {
			t.Fatalf("class %d: %x, %v", class, got, err)
		}
	}
	for _, class := range []uint32{12, 15, 16, 99, 0xFFFFFFFF} {
		if _, err := ck.UnwrapFileKey(class, wrapped); !errors.Is(err, ErrNoClassKey) {
			t.Errorf("class %d: %v, want ErrNoClassKey", class, err)
		}
	}
	for _, n := range []int{0, 32, 39, 41, 44} {
		if _, err := ck.UnwrapFileKey(3, make([]byte, n)); err == nil || errors.Is(err, ErrUnwrapIntegrity) {
			t.Errorf("%d-byte wrapped key: %v, want a size error", n, err)
		}
	}
	damaged := bytes.Clone(wrapped)
	damaged[20] ^= 1
	if _, err := ck.UnwrapFileKey(3, damaged); !errors.Is(err, ErrUnwrapIntegrity) {
		t.Errorf("damaged wrapped key: %v, want ErrUnwrapIntegrity", err)
	}
}
