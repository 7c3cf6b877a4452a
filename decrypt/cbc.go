package decrypt

import (
	"crypto/aes"
	"errors"
	"fmt"
	"io"
	"sync"

	"iosbackup/decrypt/aescbc"
)

// FileKeySize is the size of a file key: backups use AES-256.
const FileKeySize = 32

const blockSize = aes.BlockSize

// ErrNotBlockAligned is wrapped when a ciphertext is empty or not a multiple
// of the AES block size: it cannot be AES-CBC with PKCS#7 padding (an empty
// file still has one block of padding). Truncated or damaged blob.
var ErrNotBlockAligned = errors.New("ciphertext size is not a positive multiple of 16")

// ErrBadPadding is wrapped when the last block does not end in valid PKCS#7
// padding. With a correct size this almost always means a wrong file key
// (or a wrong class key), otherwise a damaged blob.
var ErrBadPadding = errors.New("bad PKCS#7 padding (wrong key or damaged data)")

// zeroIV is the IV of every backup file: CBC starts from 16 zero bytes.
var zeroIV [blockSize]byte

// cbcKernel decrypts whole AES-CBC blocks with one key. It is the single seam
// for the block cipher: every decryption in this package goes through
// newCBCKernel and decryptBlocks.
//
// CBC decryption has no chain between blocks, so decrypt/aescbc runs 8 to 32
// blocks at once through AES-NI/VAES (ARMv8 AES on arm64): about 16 times
// crypto/cipher's one-block-at-a-time decrypter, and faster than OpenSSL.
type cbcKernel struct {
	d *aescbc.Decrypter
}

func newCBCKernel(key []byte) (*cbcKernel, error) {
	if len(key) != FileKeySize {
		return nil, fmt.Errorf("AES-256-CBC: key is %d bytes, want %d", len(key), FileKeySize)
	}
	d, err := aescbc.New(key)
	if err != nil {
		return nil, fmt.Errorf("AES-256-CBC: %w", err)
	}
	return &cbcKernel{d: d}, nil
}

// decryptBlocks decrypts src into dst in CBC mode. iv is the ciphertext block
// that precedes src (zeroIV at the start of a file), which is what makes
// random access work: P[i] = AES-decrypt(C[i]) XOR C[i-1].
//
// len(src) is a multiple of 16 and len(dst) >= len(src); dst and src are the
// same slice or disjoint; iv may alias src's neighbour but not dst. Callers
// guarantee these (aescbc panics otherwise): they are programming errors, not
// data errors, because every length here is checked against the blob first.
func (k *cbcKernel) decryptBlocks(iv, dst, src []byte) {
	if len(src) == 0 {
		return
	}
	k.d.DecryptCBC(dst, src, iv)
}

// paddingLength checks the PKCS#7 padding of the last plaintext block and
// returns its length (1 to 16).
func paddingLength(last []byte) (int, error) {
	pad := int(last[blockSize-1])
	if pad < 1 || pad > blockSize {
		return 0, fmt.Errorf("pad byte is %d, want 1 to 16: %w", pad, ErrBadPadding)
	}
	for _, b := range last[blockSize-pad:] {
		if int(b) != pad {
			return 0, fmt.Errorf("pad bytes are not all %d: %w", pad, ErrBadPadding)
		}
	}
	return pad, nil
}

// DecryptAll decrypts a whole AES-256-CBC ciphertext (zero IV, PKCS#7
// padding) in memory and returns the unpadded plaintext. Meant for small
// buffers; use NewReader for files.
func DecryptAll(ciphertext, key []byte) ([]byte, error) {
	out, err := DecryptRaw(ciphertext, key)
	if err != nil {
		return nil, err
	}
	pad, err := paddingLength(out[len(out)-blockSize:])
	if err != nil {
		clear(out)
		return nil, fmt.Errorf("decrypt %d bytes: %w", len(ciphertext), err)
	}
	return out[:len(out)-pad], nil
}

// DecryptRaw is DecryptAll without padding: it returns every decrypted byte,
// padding included. See NewRawReader for when that is wanted.
func DecryptRaw(ciphertext, key []byte) ([]byte, error) {
	if len(ciphertext) == 0 || len(ciphertext)%blockSize != 0 {
		return nil, fmt.Errorf("decrypt %d bytes: %w", len(ciphertext), ErrNotBlockAligned)
	}
	k, err := newCBCKernel(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(ciphertext))
	k.decryptBlocks(zeroIV[:], out, ciphertext)
	return out, nil
}

// Reader decrypts an AES-256-CBC blob (zero IV, PKCS#7 padding) with random
// access: ReadAt decrypts only the blocks that cover the request. It holds
// no mutable state besides pools, so one Reader serves concurrent ReadAt
// calls (FUSE and SQLite issue them).
type Reader struct {
	blob     io.ReaderAt
	blobSize int64
	size     int64
	kernel   *cbcKernel
}

// NewReader returns a Reader of the plaintext of blob, which holds blobSize
// bytes of ciphertext encrypted with key (32 bytes).
//
// blobSize must be a positive multiple of 16 (else ErrNotBlockAligned). The
// plaintext size is the blob size minus the padding, which NewReader reads
// from the last block alone (reading only the last two blocks of the blob);
// invalid padding gives ErrBadPadding. This size is the truth: the manifest's
// recorded Size is not to be trusted over it.
func NewReader(blob io.ReaderAt, blobSize int64, key []byte) (*Reader, error) {
	r, err := newReader(blob, blobSize, key)
	if err != nil {
		return nil, err
	}
	// tail holds the IV of the last block (the previous ciphertext block, or
	// the zero IV for a one-block blob), the last block, then its plaintext.
	var tail [3 * blockSize]byte
	ct := tail[:2*blockSize]
	readOff := blobSize - 2*blockSize
	if blobSize == blockSize {
		ct = tail[blockSize : 2*blockSize]
		readOff = 0
	}
	if err := readFull(blob, ct, readOff); err != nil {
		return nil, fmt.Errorf("decrypt reader: last block: %w", err)
	}
	last := tail[2*blockSize:]
	r.kernel.decryptBlocks(tail[:blockSize], last, tail[blockSize:2*blockSize])
	pad, err := paddingLength(last)
	clear(last)
	if err != nil {
		return nil, fmt.Errorf("decrypt reader: last block of %d-byte blob: %w", blobSize, err)
	}
	r.size = blobSize - int64(pad)
	return r, nil
}

// NewRawReader is NewReader without padding: the plaintext is every
// decrypted byte of the blob, padding included, and Size is blobSize.
//
// Apple's writers always pad, so NewReader is the rule. This is the fallback
// for blobs written by tools that do not, such as the encrypted Manifest.db
// of pyiosbackup's test backup (8192 bytes, no padding): a caller that gets
// ErrBadPadding and can prove the key right by other means (a SQLite header
// in the first block) may read such a blob whole, and should say so.
func NewRawReader(blob io.ReaderAt, blobSize int64, key []byte) (*Reader, error) {
	r, err := newReader(blob, blobSize, key)
	if err != nil {
		return nil, err
	}
	r.size = blobSize
	return r, nil
}

func newReader(blob io.ReaderAt, blobSize int64, key []byte) (*Reader, error) {
	if blob == nil {
		return nil, errors.New("decrypt reader: nil blob")
	}
	if blobSize <= 0 || blobSize%blockSize != 0 {
		return nil, fmt.Errorf("decrypt reader: blob of %d bytes: %w", blobSize, ErrNotBlockAligned)
	}
	kernel, err := newCBCKernel(key)
	if err != nil {
		return nil, fmt.Errorf("decrypt reader: %w", err)
	}
	return &Reader{blob: blob, blobSize: blobSize, kernel: kernel}, nil
}

// Size returns the plaintext size: the blob size minus the padding (the blob
// size itself for a NewRawReader).
func (r *Reader) Size() int64 { return r.size }

// BlobSize returns the ciphertext size the Reader was made with.
func (r *Reader) BlobSize() int64 { return r.blobSize }

// readFull reads exactly len(p) bytes at off, turning a short read into an
// error: a blob shorter than its stat (truncated, or changed underneath us)
// must fail clearly, not decrypt garbage.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil // io.ReaderAt may return io.EOF with a full read at the end
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read ciphertext [%d, %d): got %d bytes: %w", off, off+int64(len(p)), n, err)
}

// Scratch buffers for ciphertext. A request needs at most its length rounded
// out to whole blocks plus the preceding block (the IV) plus one more for an
// unaligned start, i.e. len+32 for a block-multiple length; the extra
// blockSize at the end is room to decrypt a partial head or tail block. Two
// sizes keep the common small reads (SQLite pages, 4 KiB) from pinning a
// megabyte each, while kernel reads up to 1 MiB (FUSE max_read) still take
// one buffer and one blob read.
const (
	maxChunk        = 1 << 20 // plaintext bytes decrypted per blob read
	smallChunk      = 128 << 10
	scratchOverhead = 3 * blockSize
)

var (
	smallScratch = sync.Pool{New: func() any { b := make([]byte, smallChunk+scratchOverhead); return &b }}
	largeScratch = sync.Pool{New: func() any { b := make([]byte, maxChunk+scratchOverhead); return &b }}
)

// ReadAt reads len(p) bytes of plaintext at off, following the io.ReaderAt
// contract: it returns n < len(p) only with an error, io.EOF when the end of
// the plaintext cuts the read short. Each call of up to 1 MiB does exactly
// one ReadAt on the blob, of [blockStart-16, blockEnd): the blocks covering
// [off, off+len(p)) and the block before them. Larger requests are served in
// 1 MiB chunks.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("decrypt reader: read at negative offset %d", off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := r.size - off; int64(want) > rest {
		want = int(rest)
	}
	for done := 0; done < want; {
		n := min(want-done, maxChunk)
		if err := r.readChunk(p[done:done+n], off+int64(done)); err != nil {
			return done, fmt.Errorf("decrypt reader: %w", err)
		}
		done += n
	}
	if want < len(p) {
		return want, io.EOF
	}
	return want, nil
}

// readChunk fills p (at most maxChunk bytes, none past r.size) with the
// plaintext at off.
func (r *Reader) readChunk(p []byte, off int64) error {
	end := off + int64(len(p))
	blockStart := off &^ (blockSize - 1)
	blockEnd := (end + blockSize - 1) &^ (blockSize - 1)

	// ct[:16] is the IV of the first block, ct[16:] the covering blocks.
	ctLen := int(blockEnd-blockStart) + blockSize
	pool := &smallScratch
	if ctLen+blockSize > smallChunk+scratchOverhead {
		pool = &largeScratch
	}
	bufp := pool.Get().(*[]byte)
	defer pool.Put(bufp)
	buf := *bufp
	ct := buf[:ctLen]
	tmp := buf[len(buf)-blockSize:] // for a partial head or tail block

	if blockStart == 0 {
		copy(ct[:blockSize], zeroIV[:])
		if err := readFull(r.blob, ct[blockSize:], 0); err != nil {
			return err
		}
	} else if err := readFull(r.blob, ct, blockStart-blockSize); err != nil {
		return err
	}

	iv, src := ct[:blockSize], ct[blockSize:]
	cur := blockStart // plaintext offset of src[0]
	pos := 0          // bytes of p filled

	// A first block that the request does not cover entirely is decrypted
	// aside and copied in part.
	if off > cur || end < cur+blockSize {
		r.kernel.decryptBlocks(iv, tmp, src[:blockSize])
		pos += copy(p, tmp[off-cur:min(blockSize, end-cur)])
		iv, src, cur = src[:blockSize], src[blockSize:], cur+blockSize
	}
	// Whole blocks go straight into p: no copy of the plaintext.
	if full := (end - cur) / blockSize; full > 0 {
		nb := int(full) * blockSize
		r.kernel.decryptBlocks(iv, p[pos:pos+nb], src[:nb])
		pos += nb
		iv, src, cur = src[nb-blockSize:nb], src[nb:], cur+int64(nb)
	}
	// A partial last block.
	if cur < end {
		r.kernel.decryptBlocks(iv, tmp, src[:blockSize])
		copy(p[pos:], tmp[:end-cur])
	}
	clear(tmp)
	return nil
}
