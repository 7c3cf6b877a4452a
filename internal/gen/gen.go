// Package gen writes synthetic iOS backups that look like the ones iTunes and Finder
// write, deterministically from a seed, together with the Truth of what was written.
//
// Tests, benchmarks and `make demo` use it: every reader in the project can be checked
// against the Truth instead of against what another reader printed. Two layouts are
// supported: FormatDB (iOS 10.2+: Manifest.db, blobs under xx/<fileID>, Manifest.db
// encrypted as a whole when the backup is) and FormatMBDB (iOS 5-9: Manifest.mbdb, blobs
// flat in the folder). Content is streamed: a multi-GB file costs a few MB of memory,
// and a million entries are written in one SQLite transaction.
package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Format is the layout of the generated backup.
type Format int

const (
	// FormatDB is the iOS 10+ layout: Manifest.db and blobs at xx/<fileID>.
	FormatDB Format = iota
	// FormatMBDB is the iOS 5-9 layout: Manifest.mbdb and blobs flat in the folder.
	FormatMBDB
)

func (f Format) String() string {
	switch f {
	case FormatDB:
		return "db"
	case FormatMBDB:
		return "mbdb"
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// Real key-derivation rounds of an iOS 10.2+ backup keybag (DPIC and ITER).
const (
	RealSHA256Rounds = 10_000_000
	RealSHA1Rounds   = 10_000
)

// Bounds that keep a typo from filling the disk or running for hours.
const (
	maxEntries = 20_000_000
	maxRounds  = 100_000_000
)

// Options say what to generate. The zero value (plus a directory) is a valid, small,
// unencrypted iOS 10+ backup.
type Options struct {
	Seed   int64
	Format Format

	Encrypted bool
	// Password of an encrypted backup; required when Encrypted.
	Password string
	// SHA256Rounds (DPIC, FormatDB only) and SHA1Rounds (ITER) of the keybag; 0 means
	// the real values. Tests use e.g. 1000 and 10 to keep the KDF instant.
	SHA256Rounds, SHA1Rounds int

	// Entries is the number of manifest rows wanted. The fixed realistic content comes
	// first (about 110 rows); deterministic filler files and folders make up the rest.
	// A value below the fixed content's size yields the fixed content alone.
	Entries int
	// BigFileSize, when > 0, adds MediaDomain Media/Recordings/big.mov of that many
	// bytes, streamed from a keystream (constant memory).
	BigFileSize int64
	// Revision r > 0 is the same device backed up again later: a deterministic handful
	// of files change, some are added and some removed relative to revision 0 of the
	// same options. All revisions of a seed share one keybag, and unchanged files keep
	// their file keys, so their blobs are byte-identical across revisions.
	Revision int
	// OmitFillerBlobs leaves out the blobs of filler files (their rows stay), as a
	// partial backup would; it makes huge manifests for reader benchmarks cheap. The
	// Truth marks such entries BlobMissing.
	OmitFillerBlobs bool

	// Messages is the number of ordinary messages in sms.db (0: a dozen or so), for
	// measuring readers on a large database.
	Messages int

	// Device identity; empty values get defaults that suit the Format; ProductVersion
	// also picks the schemas of the people's databases (sms.db, Photos.sqlite...).
	DeviceName, UDID, ProductVersion string
}

// Generate writes a backup into dir, which must not exist or be empty, and returns the
// Truth of what it wrote. On error the folder is left as it is, for inspection.
func Generate(dir string, opt Options) (*Truth, error) {
	if err := validate(&opt); err != nil {
		return nil, err
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	start := time.Now()
	t, err := plan(opt)
	if err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	t.Dir = dir

	w, err := newWriter(dir, opt, t)
	if err != nil {
		return nil, err
	}
	if err := w.writeAll(); err != nil {
		return nil, err
	}
	t.Elapsed = time.Since(start)
	return t, nil
}

func validate(opt *Options) error {
	if opt.Format != FormatDB && opt.Format != FormatMBDB {
		return fmt.Errorf("gen: unknown format %d", int(opt.Format))
	}
	if opt.Entries < 0 || opt.Entries > maxEntries {
		return fmt.Errorf("gen: entries %d out of range [0, %d]", opt.Entries, maxEntries)
	}
	if opt.Messages < 0 || opt.Messages > 10_000_000 {
		return fmt.Errorf("gen: messages %d out of range [0, 10000000]", opt.Messages)
	}
	if opt.BigFileSize < 0 {
		return fmt.Errorf("gen: negative big file size %d", opt.BigFileSize)
	}
	if opt.Revision < 0 {
		return fmt.Errorf("gen: negative revision %d", opt.Revision)
	}
	if opt.SHA256Rounds < 0 || opt.SHA256Rounds > maxRounds || opt.SHA1Rounds < 0 || opt.SHA1Rounds > maxRounds {
		return fmt.Errorf("gen: KDF rounds %d/%d out of range [0, %d]", opt.SHA256Rounds, opt.SHA1Rounds, maxRounds)
	}
	if opt.Encrypted && opt.Password == "" {
		return fmt.Errorf("gen: an encrypted backup needs a password")
	}
	if opt.SHA256Rounds == 0 {
		opt.SHA256Rounds = RealSHA256Rounds
	}
	if opt.SHA1Rounds == 0 {
		opt.SHA1Rounds = RealSHA1Rounds
	}
	return nil
}

// prepareDir creates dir, or accepts it when it exists and is empty: writing into a
// folder that already holds a backup would mix two backups' blobs.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil:
		if len(entries) > 0 {
			return fmt.Errorf("gen: output folder %s is not empty", dir)
		}
		return nil
	case os.IsNotExist(err):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("gen: create %s: %w", dir, err)
		}
		return nil
	default:
		return fmt.Errorf("gen: output folder %s: %w", filepath.Clean(dir), err)
	}
}
