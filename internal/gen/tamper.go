package gen

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"howett.net/plist"

	"iosbackup/decrypt"
)

// Hostile-input tests start from a generated backup and damage its manifest the way an
// attacker would. These helpers do the bookkeeping: decrypting and re-encrypting an
// encrypted Manifest.db, and encoding the records to plant.

// EditManifestDB opens the Manifest.db of the FormatDB backup t describes, read-write,
// and calls edit with it. An encrypted Manifest.db is decrypted into a temporary file
// beside it, edited, and encrypted back into place with its ManifestKey.
func EditManifestDB(t *Truth, edit func(db *sql.DB) error) error {
	if t.Format != FormatDB {
		return fmt.Errorf("gen: EditManifestDB: %s backup has no Manifest.db", t.Format)
	}
	path := filepath.Join(t.Dir, "Manifest.db")
	if !t.Encrypted {
		return editDB(path, edit)
	}
	key, err := manifestKeyOf(t)
	if err != nil {
		return err
	}
	enc, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	plain, err := decrypt.DecryptAll(enc, key)
	if err != nil {
		return fmt.Errorf("gen: decrypt %s: %w", path, err)
	}
	tmp := filepath.Join(t.Dir, plaintextManifestName)
	defer os.Remove(tmp)
	if err := os.WriteFile(tmp, plain, 0o600); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := editDB(tmp, edit); err != nil {
		return err
	}
	plain, err = os.ReadFile(tmp)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	var out bytes.Buffer
	if _, err := EncryptCBC(&out, bytes.NewReader(plain), key, make([]byte, chunkSize+16)); err != nil {
		return fmt.Errorf("gen: encrypt %s: %w", path, err)
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

func editDB(path string, edit func(db *sql.DB) error) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return fmt.Errorf("gen: open %s: %w", path, err)
	}
	err = edit(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gen: edit %s: %w", path, err)
	}
	return nil
}

// manifestKeyOf unwraps the ManifestKey of Manifest.plist with the class key it names.
func manifestKeyOf(t *Truth) ([]byte, error) {
	raw, err := os.ReadFile(filepath.Join(t.Dir, "Manifest.plist"))
	if err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	var m struct{ ManifestKey []byte }
	if _, err := plist.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("gen: Manifest.plist: %w", err)
	}
	if len(m.ManifestKey) < 4 {
		return nil, errors.New("gen: Manifest.plist has no ManifestKey")
	}
	class := binary.LittleEndian.Uint32(m.ManifestKey)
	ck, ok := t.ClassKeys[class]
	if !ok {
		return nil, fmt.Errorf("gen: no class key %d", class)
	}
	return decrypt.Unwrap(ck, m.ManifestKey[4:])
}

// MBFileRecord is the `file` column of Manifest.db for e (unencrypted: no file key).
func MBFileRecord(e *TruthEntry) ([]byte, error) { return mbFileRecord(e, nil) }

// MBDBRecord is one Manifest.mbdb record for e (unencrypted: no file key), to append to
// a generated Manifest.mbdb.
func MBDBRecord(e *TruthEntry) ([]byte, error) { return mbdbRecord(e, nil) }
