package gen

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"iosbackup/decrypt"
	"iosbackup/internal/testenv"
)

// Test-local readers. They are deliberately independent of the package under test
// (and of the project's readers, which are written concurrently): each decodes the
// format from the description in shared/docs/backup-format.md.

func generate(t testing.TB, opt Options) *Truth {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "backup")
	truth, err := Generate(dir, opt)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", opt, err)
	}
	return truth
}

func fastKDF(opt Options) Options {
	opt.SHA256Rounds, opt.SHA1Rounds = 1000, 10
	return opt
}

func sqliteCLI(t *testing.T) string {
	t.Helper()
	return testenv.RequireTool(t, "sqlite3")
}

// sqliteQuery runs one query with the sqlite3 CLI and returns its rows, columns
// separated by "|".
func sqliteQuery(t *testing.T, db, query string) [][]string {
	t.Helper()
	out, err := exec.Command(sqliteCLI(t), "-readonly", db, query).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("sqlite3 %s %q: %v %s", db, query, err, stderr)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows
}

func readPlist(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if _, err := plist.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func sha1Hex(domain, path string) string {
	s := sha1.Sum([]byte(domain + "-" + path))
	return hex.EncodeToString(s[:])
}

func contentBytes(t testing.TB, e *TruthEntry) []byte {
	t.Helper()
	b, err := io.ReadAll(e.Content())
	if err != nil {
		t.Fatalf("%s: content: %v", e.Key(), err)
	}
	if int64(len(b)) != e.TrueSize {
		t.Fatalf("%s: content is %d bytes, TrueSize %d", e.Key(), len(b), e.TrueSize)
	}
	return b
}

type tlv struct {
	tag string
	val []byte
}

func parseTLV(t *testing.T, b []byte) []tlv {
	t.Helper()
	var out []tlv
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("keybag: %d trailing bytes", len(b))
		}
		n := binary.BigEndian.Uint32(b[4:8])
		if uint64(n) > uint64(len(b)-8) {
			t.Fatalf("keybag: tag %q length %d runs past the end", b[:4], n)
		}
		out = append(out, tlv{string(b[:4]), b[8 : 8+n]})
		b = b[8+n:]
	}
	return out
}

func u32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// cbcDecrypt decrypts an AES-256-CBC zero-IV blob and checks and strips PKCS#7.
func cbcDecrypt(key, blob []byte) ([]byte, error) {
	if len(blob) == 0 || len(blob)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("blob of %d bytes is not whole blocks", len(blob))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(blob))
	cipher.NewCBCDecrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(out, blob)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, fmt.Errorf("bad padding byte %d", pad)
	}
	if !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, fmt.Errorf("bad padding")
	}
	return out[:len(out)-pad], nil
}

// unlockedKeybag parses Manifest.plist's keybag, derives the KEK from the password
// with the documented KDF, and unwraps the class keys.
type unlockedKeybag struct {
	header    map[string][]byte
	kek       []byte
	classKeys map[uint32][]byte
	wraps     map[uint32]uint32
}

func unlockKeybag(t *testing.T, raw []byte, password string) (*unlockedKeybag, error) {
	t.Helper()
	kb := &unlockedKeybag{header: map[string][]byte{}, classKeys: map[uint32][]byte{}, wraps: map[uint32]uint32{}}
	recs := parseTLV(t, raw)
	i := 0
	for ; i < len(recs); i++ {
		if recs[i].tag == "UUID" && kb.header["UUID"] != nil {
			break
		}
		kb.header[recs[i].tag] = recs[i].val
	}
	k := []byte(password)
	if dpsl := kb.header["DPSL"]; dpsl != nil {
		k = pbkdf2SHA256(k, dpsl, int(u32(kb.header["DPIC"])))
	}
	kb.kek = pbkdf2SHA1(k, kb.header["SALT"], int(u32(kb.header["ITER"])))
	var class uint32
	for ; i < len(recs); i++ {
		switch recs[i].tag {
		case "CLAS":
			class = u32(recs[i].val) & 0xF
		case "WRAP":
			kb.wraps[class] = u32(recs[i].val)
		case "WPKY":
			key, err := decrypt.Unwrap(kb.kek, recs[i].val)
			if err != nil {
				return kb, fmt.Errorf("class %d: %w", class, err)
			}
			kb.classKeys[class] = key
		}
	}
	return kb, nil
}

// mbdbRec is one record of Manifest.mbdb as the test reads it.
type mbdbRec struct {
	domain, path, target, digest, key string
	targetNull, digestNull, keyNull   bool
	mode                              uint16
	inode                             uint64
	uid, gid, mtime, ctime, birth     uint32
	size                              uint64
	class                             uint8
	props                             map[string][]byte
}

func parseMBDB(t *testing.T, b []byte) []mbdbRec {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("mbdb\x05\x00")) {
		t.Fatalf("Manifest.mbdb header %q", b[:min(6, len(b))])
	}
	b = b[6:]
	need := func(n int) []byte {
		if len(b) < n {
			t.Fatalf("Manifest.mbdb truncated: need %d bytes, have %d", n, len(b))
		}
		v := b[:n]
		b = b[n:]
		return v
	}
	str := func() (string, bool) {
		n := binary.BigEndian.Uint16(need(2))
		if n == 0xFFFF {
			return "", true
		}
		return string(need(int(n))), false
	}
	var recs []mbdbRec
	for len(b) > 0 {
		var r mbdbRec
		r.domain, _ = str()
		r.path, _ = str()
		r.target, r.targetNull = str()
		r.digest, r.digestNull = str()
		r.key, r.keyNull = str()
		r.mode = binary.BigEndian.Uint16(need(2))
		r.inode = binary.BigEndian.Uint64(need(8))
		r.uid = u32(need(4))
		r.gid = u32(need(4))
		r.mtime = u32(need(4))
		r.ctime = u32(need(4))
		r.birth = u32(need(4))
		r.size = binary.BigEndian.Uint64(need(8))
		r.class = need(1)[0]
		n := int(need(1)[0])
		if n > 0 {
			r.props = map[string][]byte{}
		}
		for range n {
			name, _ := str()
			val, _ := str()
			r.props[name] = []byte(val)
		}
		recs = append(recs, r)
	}
	return recs
}

// mbFile decodes one Manifest.db `file` column generically (no structs), resolving
// UIDs by hand as a reader must.
type mbFile struct {
	fields  map[string]any
	objects []any
}

func decodeMBFile(t *testing.T, blob []byte) mbFile {
	t.Helper()
	var top map[string]any
	if _, err := plist.Unmarshal(blob, &top); err != nil {
		t.Fatalf("MBFile: %v", err)
	}
	if top["$archiver"] != "NSKeyedArchiver" || toInt(top["$version"]) != 100000 {
		t.Fatalf("MBFile archive header: %v %v", top["$archiver"], top["$version"])
	}
	objects, _ := top["$objects"].([]any)
	root, ok := top["$top"].(map[string]any)["root"].(plist.UID)
	if !ok || int(root) >= len(objects) || objects[0] != "$null" {
		t.Fatalf("MBFile: bad $top/$objects: %v", top)
	}
	fields, _ := objects[root].(map[string]any)
	m := mbFile{fields: fields, objects: objects}
	if cls := m.ref(t, "$class").(map[string]any); cls["$classname"] != "MBFile" {
		t.Fatalf("MBFile class %v", cls)
	}
	return m
}

func (m mbFile) has(name string) bool { _, ok := m.fields[name]; return ok }

func (m mbFile) ref(t *testing.T, name string) any {
	t.Helper()
	u, ok := m.fields[name].(plist.UID)
	if !ok || int(u) >= len(m.objects) || u == 0 {
		t.Fatalf("MBFile %s: not a valid UID: %#v", name, m.fields[name])
	}
	return m.objects[u]
}

func (m mbFile) int(name string) int64 { return toInt(m.fields[name]) }

func toInt(v any) int64 {
	switch x := v.(type) {
	case uint64:
		return int64(x)
	case int64:
		return x
	}
	return -1 << 62
}

// The standard library's PBKDF2 (the generator uses golang.org/x/crypto's): two
// implementations agreeing is the check.
func pbkdf2SHA256(password, salt []byte, rounds int) []byte {
	k, err := pbkdf2.Key(sha256.New, string(password), salt, rounds, 32)
	if err != nil {
		panic(err)
	}
	return k
}

func pbkdf2SHA1(password, salt []byte, rounds int) []byte {
	k, err := pbkdf2.Key(sha1.New, string(password), salt, rounds, 32)
	if err != nil {
		panic(err)
	}
	return k
}
