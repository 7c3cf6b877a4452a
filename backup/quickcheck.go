package backup

import (
	"errors"
	"fmt"
	"strings"

	"iosbackup/manifest"
)

// ErrIncomplete: the backup cannot be handed to a device as it is.
var ErrIncomplete = errors.New("backup is incomplete")

// QuickReport is what QuickCheck found in a backup that passed it.
type QuickReport struct {
	Files int   // file rows, each with its blob
	Bytes int64 // the blobs' sizes on disk
}

// maxNamed bounds how many problems an error lists.
const maxNamed = 10

// QuickCheck is the structural check before a backup is sent anywhere: Verify's quick
// mode (plists parse, Status.plist says finished, every file row has a blob of a
// plausible size), with the key this backup was unlocked with, so nothing is derived
// or decrypted again. A device finds a missing blob only mid-restore (error 205),
// which is what this saves. Problems come back as one error naming them.
func (b *Backup) QuickCheck() (*QuickReport, error) {
	var total totalBytes
	rep, err := Verify(b.Dir, Options{Key: b.kek}, VerifyOptions{Quick: true, Progress: &total})
	if err != nil {
		return nil, err
	}
	if !rep.Sound() {
		lines := make([]string, 0, maxNamed)
		for _, p := range rep.Problems[:min(len(rep.Problems), maxNamed)] {
			lines = append(lines, p.String())
		}
		more := ""
		if n := len(rep.Problems) - len(lines); n > 0 {
			more = fmt.Sprintf("\n  ... and %d more", n)
		}
		return nil, fmt.Errorf("%w: %s: %d problems ('iosbackup verify' for all):\n  %s%s", ErrIncomplete, b.Dir,
			len(rep.Problems), strings.Join(lines, "\n  "), more)
	}
	return &QuickReport{Files: rep.Files, Bytes: int64(total)}, nil
}

// totalBytes keeps the blob total Verify announces.
type totalBytes int64

func (t *totalBytes) Start(n int64) { *t = totalBytes(n) }
func (t *totalBytes) Add(int64)     {}

// ReadInfoPlist returns the raw Info.plist (bounded, through the folder's confined
// opener): what a restore hands the device as the list of apps to reinstall.
func (b *Backup) ReadInfoPlist() ([]byte, error) {
	return b.dir.readBounded("Info.plist", manifest.MaxInfoPlistSize)
}
