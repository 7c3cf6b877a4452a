package decrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// samplesDir is the shared, read-only sample folder (see the brief).
var samplesDir = filepath.Join("..", "..", "shared", "samples")

func readSample(t testing.TB, parts ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{samplesDir}, parts...)...))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return data
}

// encryptCBC is the test's own reference encryption: crypto/cipher's CBC
// encrypter with a zero IV and PKCS#7 padding, independent of the code under
// test.
func encryptCBC(t testing.TB, key, plaintext []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(buf, buf)
	return buf
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// tlv is one keybag record for encodeKeybag.
type tlv struct {
	tag string
	val []byte
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// encodeKeybag writes records in the keybag TLV format, independently of
// ParseKeybag.
func encodeKeybag(records ...tlv) []byte {
	var out []byte
	for _, r := range records {
		out = append(out, r.tag...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(r.val)))
		out = append(out, r.val...)
	}
	return out
}

// countingReaderAt records every ReadAt made on a blob.
type countingReaderAt struct {
	r     io.ReaderAt
	mu    sync.Mutex
	calls [][2]int64 // offset, length
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.calls = append(c.calls, [2]int64{off, int64(len(p))})
	c.mu.Unlock()
	return c.r.ReadAt(p, off)
}

func (c *countingReaderAt) reset() [][2]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

// eofAtEndReaderAt returns io.EOF together with a full read that reaches the
// end of the data, which io.ReaderAt allows (os.File does not, others do).
type eofAtEndReaderAt struct{ data []byte }

func (e eofAtEndReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := bytes.NewReader(e.data).ReadAt(p, off)
	if err == nil && off+int64(n) == int64(len(e.data)) {
		err = io.EOF
	}
	return n, err
}

// shortReaderAt serves data but pretends the blob ends at limit: a file
// truncated under a Reader that was made before.
type shortReaderAt struct {
	data  []byte
	limit int64
	err   error // returned with short reads; nil means io.EOF
}

func (s *shortReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.limit {
		if s.err != nil {
			return 0, s.err
		}
		return 0, io.EOF
	}
	n := copy(p, s.data[off:min(s.limit, int64(len(s.data)))])
	if n < len(p) {
		if s.err != nil {
			return n, s.err
		}
		return n, io.EOF
	}
	return n, nil
}
