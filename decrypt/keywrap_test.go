package decrypt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// rfc3394Vectors are the six test vectors of RFC 3394 section 4.
var rfc3394Vectors = []struct {
	name, kek, key, wrapped string
}{
	{"4.1 128-bit data, 128-bit KEK",
		"000102030405060708090A0B0C0D0E0F",
		"00112233445566778899AABBCCDDEEFF",
		"1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
	{"4.2 128-bit data, 192-bit KEK",
		"000102030405060708090A0B0C0D0E0F1011121314151617",
		"00112233445566778899AABBCCDDEEFF",
		"96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
	{"4.3 128-bit data, 256-bit KEK",
		"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
		"00112233445566778899AABBCCDDEEFF",
		"64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
	{"4.4 192-bit data, 192-bit KEK",
		"000102030405060708090A0B0C0D0E0F1011121314151617",
		"00112233445566778899AABBCCDDEEFF0001020304050607",
		"031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
	{"4.5 192-bit data, 256-bit KEK",
		"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
		"00112233445566778899AABBCCDDEEFF0001020304050607",
		"A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
	{"4.6 256-bit data, 256-bit KEK",
		"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
		"00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
		"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
}

func TestKeyWrapRFC3394Vectors(t *testing.T) {
	for _, v := range rfc3394Vectors {
		t.Run(v.name, func(t *testing.T) {
			kek, key, wrapped := mustHex(t, v.kek), mustHex(t, v.key), mustHex(t, v.wrapped)
			got, err := Wrap(kek, key)
			if err != nil {
				t.Fatalf("Wrap: %v", err)
			}
			if !bytes.Equal(got, wrapped) {
				t.Errorf("Wrap = %X, want %X", got, wrapped)
			}
			unwrapped, err := Unwrap(kek, wrapped)
			if err != nil {
				t.Fatalf("Unwrap: %v", err)
			}
			if !bytes.Equal(unwrapped, key) {
				t.Errorf("Unwrap = %X, want %X", unwrapped, key)
			}

			// A wrong KEK (one bit flipped) and a damaged wrapped key must
			// both fail the integrity check and return no key.
			badKEK := bytes.Clone(kek)
			badKEK[0] ^= 1
			if k, err := Unwrap(badKEK, wrapped); !errors.Is(err, ErrUnwrapIntegrity) || k != nil {
				t.Errorf("Unwrap with wrong KEK = %X, %v; want nil, ErrUnwrapIntegrity", k, err)
			}
			damaged := bytes.Clone(wrapped)
			damaged[len(damaged)-1] ^= 0x80
			if k, err := Unwrap(kek, damaged); !errors.Is(err, ErrUnwrapIntegrity) || k != nil {
				t.Errorf("Unwrap of damaged data = %X, %v; want nil, ErrUnwrapIntegrity", k, err)
			}
		})
	}
}

func TestKeyWrapBadSizes(t *testing.T) {
	kek := make([]byte, 32)
	for _, n := range []int{0, 8, 15, 17, 33} {
		if _, err := Wrap(kek, make([]byte, n)); err == nil {
			t.Errorf("Wrap of %d-byte key: no error", n)
		}
	}
	for _, n := range []int{0, 8, 16, 23, 41} {
		_, err := Unwrap(kek, make([]byte, n))
		if err == nil || errors.Is(err, ErrUnwrapIntegrity) {
			t.Errorf("Unwrap of %d bytes: err = %v, want a size error", n, err)
		}
	}
	for _, n := range []int{0, 15, 31, 33} {
		if _, err := Wrap(make([]byte, n), make([]byte, 16)); err == nil {
			t.Errorf("Wrap with %d-byte KEK: no error", n)
		}
		if _, err := Unwrap(make([]byte, n), make([]byte, 24)); err == nil {
			t.Errorf("Unwrap with %d-byte KEK: no error", n)
		}
	}
}

func TestKeyWrapRoundTripLongKeys(t *testing.T) {
	// Longer keys than the RFC's exercise the n*j+i counter beyond one byte.
	kek := mustHex(t, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
	for n := 16; n <= 8*64; n += 8 {
		key := make([]byte, n)
		for i := range key {
			key[i] = byte(i*7 + n)
		}
		w, err := Wrap(kek, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unwrap(kek, w)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("%d-byte key: round trip = %X, %v", n, got, err)
		}
	}
}
