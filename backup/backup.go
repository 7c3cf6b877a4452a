// Package backup opens one iOS backup folder: it reads the property lists, unlocks the
// keybag of an encrypted backup, streams the manifest (decrypting Manifest.db on the fly)
// into a manifest.Index, and opens file contents as random-access readers.
//
// It is the only place where the manifest and the crypto meet; the FUSE layer and the
// command line use it and know nothing of SQLite or keybags.
package backup

import (
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"iosbackup/decrypt"
	"iosbackup/manifest"
)

// Format is the on-disk generation of a backup.
type Format int

const (
	FormatDB   Format = iota + 1 // iOS 10+: Manifest.db, blobs in xx/<fileID>
	FormatMBDB                   // iOS 5-9: Manifest.mbdb, blobs flat in the folder
)

func (f Format) String() string {
	switch f {
	case FormatDB:
		return "Manifest.db"
	case FormatMBDB:
		return "Manifest.mbdb"
	}
	return "unknown"
}

// Errors callers tell apart.
var (
	// ErrBlobMissing: the manifest lists a file whose contents are not in the folder
	// (partial backups, iCloud-only photos).
	ErrBlobMissing = errors.New("file contents missing from backup")
	// ErrLocked: the backup is encrypted and no password or key was given.
	ErrLocked = errors.New("backup is encrypted: a password or key is needed")
	// ErrNotBackup: the folder holds no manifest.
	ErrNotBackup = errors.New("not an iOS backup (no Manifest.db or Manifest.mbdb)")
)

// Options say how to unlock an encrypted backup. Key wins over Password; Password is
// called only when the backup is encrypted and no Key was given.
type Options struct {
	Key []byte // the derived key (KEK), e.g. from --key-file
	// SavedKey looks up a key saved earlier for the keybag with this UUID (hex). A saved
	// key that no longer opens the backup (the password was changed) falls through to
	// Password with a warning.
	SavedKey func(keybagID string) []byte
	Password func() ([]byte, error) // asked lazily, so a plain backup never prompts
	Warn     func(string)           // non-fatal findings; nil discards them
	// Deriving, when set, is told the rounds of the password's key derivation just
	// before it runs: 10,000,000 on iOS 10.2+, seconds a user should be told about.
	Deriving func(rounds int)
}

// Backup is an opened backup folder.
type Backup struct {
	Dir       string
	Format    Format
	Encrypted bool
	Info      *manifest.Info          // nil when Info.plist is missing or unreadable
	Status    *manifest.Status        // nil when Status.plist is missing or unreadable
	Manifest  *manifest.ManifestPlist // nil when Manifest.plist is missing
	Index     *manifest.Index
	Stats     LoadStats

	dir      *folder // every file of the folder is opened through it
	keys     *decrypt.ClassKeys
	kek      []byte
	keybagID string
}

// LoadStats tell what reading the manifest found and repaired.
type LoadStats struct {
	Rows        int
	Skipped     int // NULL or placeholder rows
	Synthesized int // directories implied by paths but not listed
	Duplicates  int
	Invalid     int // hostile or unusable paths, dropped
	Orphans     int
	// Dropped names every manifest row that is not in the index, and why: the rows
	// the reader could not use, then those the index refused (Invalid, Duplicates,
	// Orphans). Nil when none was left out. Commands must say so: a row that vanishes
	// silently looks like a file the device never had.
	Dropped *manifest.Drops
	Elapsed time.Duration
}

// Open reads the backup in dir. For an encrypted backup it unlocks the keybag first, so a
// wrong password fails fast with an error matching decrypt.ErrWrongPassword.
func Open(dir string, opt Options) (*Backup, error) {
	start := time.Now()
	warn := opt.Warn
	if warn == nil {
		warn = func(string) {}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open backup: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open backup %s: not a folder", dir)
	}
	dirf, err := openFolder(dir)
	if err != nil {
		return nil, err
	}
	opened := false
	defer func() {
		if !opened {
			dirf.Close()
		}
	}()
	b := &Backup{Dir: dir, dir: dirf}

	if b.Format = detectFormat(dirf); b.Format == 0 {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotBackup)
	}

	if info, err := readInfo(dirf); err == nil {
		b.Info = info
	} else if !errors.Is(err, os.ErrNotExist) {
		warn(err.Error())
	}
	if status, err := readStatus(dirf); err == nil {
		b.Status = status
	} else if !errors.Is(err, os.ErrNotExist) {
		warn(err.Error())
	}
	mp, err := readManifestPlist(dirf)
	switch {
	case err == nil:
		b.Manifest = mp
		b.Encrypted = mp.IsEncrypted
	case errors.Is(err, os.ErrNotExist):
		warn(fmt.Sprintf("%s: no Manifest.plist: reading the backup as unencrypted", dir))
	default:
		// Without Manifest.plist we cannot know whether the backup is encrypted, and a
		// guess would either hide files or feed ciphertext to the user.
		return nil, err
	}

	if b.Encrypted {
		if err := b.unlock(opt, warn); err != nil {
			return nil, err
		}
	}
	if err := b.load(); err != nil {
		return nil, err
	}
	b.Stats.Elapsed = time.Since(start)
	opened = true
	return b, nil
}

// unlock derives (or takes) the key-encryption key and unwraps the class keys.
func (b *Backup) unlock(opt Options, warn func(string)) error {
	if len(b.Manifest.BackupKeyBag) == 0 {
		return fmt.Errorf("%s: Manifest.plist says encrypted but has no BackupKeyBag", b.Dir)
	}
	kb, err := decrypt.ParseKeybag(b.Manifest.BackupKeyBag)
	if err != nil {
		return fmt.Errorf("%s: keybag in Manifest.plist: %w", b.Dir, err)
	}
	b.keybagID = hex.EncodeToString(kb.UUID)
	kek := opt.Key
	if kek == nil && opt.SavedKey != nil {
		if saved := opt.SavedKey(b.keybagID); saved != nil {
			if keys, err := kb.Unlock(saved); err == nil {
				b.keys, b.kek = keys, saved
				return nil
			}
			warn(fmt.Sprintf("%s: the saved key no longer opens this backup (password changed?)", b.Dir))
		}
	}
	if kek == nil {
		if opt.Password == nil {
			return fmt.Errorf("%s: %w", b.Dir, ErrLocked)
		}
		pw, err := opt.Password()
		if err != nil {
			return fmt.Errorf("%s: reading password: %w", b.Dir, err)
		}
		if opt.Deriving != nil {
			opt.Deriving(kdfRounds(kb))
		}
		kek, err = kb.DeriveKEK(pw)
		clear(pw)
		if err != nil {
			return fmt.Errorf("%s: %w", b.Dir, err)
		}
	}
	keys, err := kb.Unlock(kek)
	if err != nil {
		if opt.Key != nil && errors.Is(err, decrypt.ErrWrongPassword) {
			return fmt.Errorf("%s: the saved or given key does not open this backup: %w", b.Dir, err)
		}
		return fmt.Errorf("%s: %w", b.Dir, err)
	}
	b.keys, b.kek = keys, kek
	return nil
}

// Close releases the descriptor of the backup folder, through which its files are
// opened (a finalizer releases it too). Files opened before stay readable; opening
// another fails.
func (b *Backup) Close() error { return b.dir.Close() }

// kdfRounds is the slow stage's rounds: PBKDF2-SHA256 on iOS 10.2+, else SHA-1.
func kdfRounds(kb *decrypt.Keybag) int {
	if kb.DPSL != nil {
		return int(kb.DPIC)
	}
	return int(kb.Iter)
}

// KeybagID is the hex UUID of the backup's keybag: it names a saved key.
func (b *Backup) KeybagID() string { return b.keybagID }

// KEK returns the derived key of an unlocked encrypted backup (nil otherwise). It opens
// the backup without the slow KDF; treat it like the password.
func (b *Backup) KEK() []byte { return b.kek }

// openManifestDB returns a decrypting reader for an encrypted Manifest.db. Apple pads it
// with PKCS#7 like every file, but some writers (the synthetic sample in the shared test
// data among them) store it unpadded: a SQLite file is a whole number of pages, so
// it needs no padding. An unpadded one is accepted only when its first block decrypts to
// the SQLite header, which also proves the key right.
func openManifestDB(blob io.ReaderAt, size int64, key []byte) (*decrypt.Reader, error) {
	r, err := decrypt.NewReader(blob, size, key)
	if err == nil || !errors.Is(err, decrypt.ErrBadPadding) {
		return r, err
	}
	raw, rawErr := decrypt.NewRawReader(blob, size, key)
	if rawErr != nil {
		return nil, err
	}
	head := make([]byte, 16)
	if _, herr := raw.ReadAt(head, 0); herr != nil || string(head) != "SQLite format 3\x00" {
		return nil, err
	}
	return raw, nil
}

// splitClassKey splits the 4-byte little-endian class prefix from a 40-byte wrapped key.
func splitClassKey(k []byte) (uint32, []byte, error) {
	if len(k) != 44 {
		return 0, nil, fmt.Errorf("want 44 bytes (class + wrapped key), got %d", len(k))
	}
	return binary.LittleEndian.Uint32(k[:4]), k[4:], nil
}

// BlobPath is where entry e's contents live: xx/<fileID> for Manifest.db backups,
// <fileID> for Manifest.mbdb ones. The path is built from the validated 20-byte ID only.
func (b *Backup) BlobPath(e *manifest.Entry) string {
	return b.dir.path(b.blobName(e, b.Format))
}

// blobName is the blob's name inside the folder in the layout of format f.
func (b *Backup) blobName(e *manifest.Entry, f Format) string {
	id := e.ID.String()
	if f == FormatMBDB {
		return id
	}
	return id[:2] + "/" + id
}

// otherLayout is the layout a blob is looked for in when it is absent from its own:
// hand-assembled and converted backups mix them.
func (b *Backup) otherLayout() Format {
	if b.Format == FormatMBDB {
		return FormatDB
	}
	return FormatMBDB
}

// openBlob opens the blob (a regular file inside the folder, never through a symlink),
// trying the other layout when the expected one is absent.
func (b *Backup) openBlob(e *manifest.Entry) (*os.File, fs.FileInfo, string, error) {
	name := b.blobName(e, b.Format)
	f, fi, err := b.dir.open(name)
	if errors.Is(err, fs.ErrNotExist) {
		alt := b.blobName(e, b.otherLayout())
		if f, fi, err2 := b.dir.open(alt); err2 == nil || !errors.Is(err2, fs.ErrNotExist) {
			return f, fi, b.dir.path(alt), blobError(e, err2)
		}
		return nil, nil, b.dir.path(name), fmt.Errorf("%s/%s (%s): %w", e.Domain, e.Path, b.dir.path(name), ErrBlobMissing)
	}
	return f, fi, b.dir.path(name), blobError(e, err)
}

// statBlob is openBlob's lstat: the blob's size without opening it.
func (b *Backup) statBlob(e *manifest.Entry) (fs.FileInfo, error) {
	name := b.blobName(e, b.Format)
	fi, err := b.dir.stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		alt := b.blobName(e, b.otherLayout())
		if fi, err2 := b.dir.stat(alt); err2 == nil || !errors.Is(err2, fs.ErrNotExist) {
			return fi, blobError(e, err2)
		}
		return nil, fmt.Errorf("%s/%s (%s): %w", e.Domain, e.Path, b.dir.path(name), ErrBlobMissing)
	}
	return fi, blobError(e, err)
}

// blobError adds the entry's name to an error that names its blob.
func blobError(e *manifest.Entry, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s/%s: %w", e.Domain, e.Path, err)
}

// File is an open file of the backup: random access to its plaintext.
type File interface {
	io.ReaderAt
	io.Closer
	Size() int64 // the number of bytes reads return
}

// OpenFile opens the contents of a file entry. Encrypted contents are decrypted block by
// block as they are read; nothing is buffered whole.
func (b *Backup) OpenFile(e *manifest.Entry) (File, error) {
	if e.Kind != manifest.KindFile {
		return nil, fmt.Errorf("%s/%s: not a regular file", e.Domain, e.Path)
	}
	f, fi, path, err := b.openBlob(e)
	if err != nil {
		return nil, err
	}
	if !b.Encrypted || e.WrappedKey == nil {
		return &plainFile{File: f, size: fi.Size()}, nil
	}
	key, err := b.fileKey(e)
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := decrypt.NewReader(f, fi.Size(), key)
	clear(key)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s/%s (%s): %w", e.Domain, e.Path, path, err)
	}
	return &encryptedFile{Reader: r, f: f, name: e.Domain + "/" + e.Path}, nil
}

func (b *Backup) fileKey(e *manifest.Entry) ([]byte, error) {
	if b.keys == nil {
		return nil, fmt.Errorf("%s/%s: %w", e.Domain, e.Path, ErrLocked)
	}
	key, err := b.keys.UnwrapFileKey(e.ProtectionClass, e.WrappedKey[:])
	if err != nil {
		return nil, fmt.Errorf("%s/%s: file key: %w", e.Domain, e.Path, err)
	}
	return key, nil
}

// FileSize returns the number of bytes a read of e returns, cheaply: a stat for plain
// files, the padding of the last block for encrypted ones. The manifest's Size is not
// trusted: real databases grow after the manifest row is written.
func (b *Backup) FileSize(e *manifest.Entry) (int64, error) {
	if e.Kind != manifest.KindFile {
		return 0, nil
	}
	if !b.Encrypted || e.WrappedKey == nil {
		fi, err := b.statBlob(e)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	f, err := b.OpenFile(e)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Size(), nil
}

type plainFile struct {
	*os.File
	size int64
}

func (p *plainFile) Size() int64 { return p.size }

type encryptedFile struct {
	*decrypt.Reader
	f    *os.File
	name string
}

func (e *encryptedFile) Close() error { return e.f.Close() }

// ReadAt adds the file's name to errors, so a damaged blob is reported by name.
func (e *encryptedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.Reader.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", e.name, err)
	}
	return n, err
}

var (
	_ File = (*plainFile)(nil)
	_ File = (*encryptedFile)(nil)
)

// Name is how the backup is labelled among others: device name and backup date.
func (b *Backup) Name() string {
	name := ""
	var when time.Time
	if b.Info != nil {
		name = firstNonEmpty(b.Info.DeviceName, b.Info.DisplayName)
		when = b.Info.LastBackupDate
	}
	if name == "" && b.Manifest != nil {
		name = b.Manifest.Lockdown.DeviceName
	}
	if when.IsZero() && b.Status != nil {
		when = b.Status.Date
	}
	if name == "" {
		name = filepath.Base(b.Dir)
	}
	name = strings.ReplaceAll(name, "/", "-")
	if !when.IsZero() {
		name += " " + when.UTC().Format("2006-01-02 15.04")
	}
	return name
}

// AppName is an app's display name: Info.plist's iTunes metadata, else the .app name in
// Manifest.plist, else the bundle ID itself.
func (b *Backup) AppName(bundleID string) string {
	if b.Info != nil {
		if a, ok := b.Info.Apps[bundleID]; ok && a.Name != "" {
			return a.Name
		}
	}
	if b.Manifest != nil {
		if a, ok := b.Manifest.Applications[bundleID]; ok && a.Path != "" {
			base := filepath.Base(a.Path)
			if n := strings.TrimSuffix(base, ".app"); n != "" && n != "." && n != "/" {
				return n
			}
		}
	}
	return bundleID
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// OpenSQLite opens the SQLite database at domain/path of the backup read-only,
// decrypting it page by page as SQLite reads: the plaintext is never written to disk.
// Its -wal is not applied (the database is opened immutable); backups are taken after
// a checkpoint. Closing the DB closes the file.
func (b *Backup) OpenSQLite(domain, path string) (*sql.DB, error) {
	i, ok := b.Index.Lookup(domain, path)
	if !ok {
		return nil, fmt.Errorf("%s/%s: %w", domain, path, os.ErrNotExist)
	}
	f, err := b.OpenFile(b.Index.Entry(i))
	if err != nil {
		return nil, err
	}
	db, err := manifest.OpenSQLiteReaderClosing(f, f.Size(), f.Close)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", domain, path, err)
	}
	return db, nil
}
