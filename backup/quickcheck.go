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

// maxNamed bounds how many missing files an error lists.
const maxNamed = 10

// QuickCheck is the structural check before a backup is sent anywhere: Status.plist
// says finished (manifest.Status.Complete) and every file row has a regular blob. It
// reads no file contents, so it takes a stat per file, not a pass over the data; a
// device finds a missing blob only mid-restore (error 205), which is what it saves.
func (b *Backup) QuickCheck() (*QuickReport, error) {
	if !b.Status.Complete() {
		state := "missing or unreadable"
		if b.Status != nil {
			state = fmt.Sprintf("%q", b.Status.SnapshotState)
		}
		return nil, fmt.Errorf("%w: %s: Status.plist snapshot state is %s, not finished (an interrupted backup)", ErrIncomplete, b.Dir, state)
	}
	rep := &QuickReport{}
	var missing []string
	nMissing := 0
	for i := 0; i < b.Index.Len(); i++ {
		e := b.Index.Entry(int32(i))
		if e.Kind != manifest.KindFile {
			continue
		}
		fi, err := b.statBlob(e)
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s/%s: blob is not a regular file", e.Domain, e.Path)
		}
		if err != nil {
			nMissing++
			if len(missing) < maxNamed {
				missing = append(missing, err.Error())
			}
			continue
		}
		rep.Files++
		rep.Bytes += fi.Size()
	}
	if nMissing > 0 {
		more := ""
		if nMissing > len(missing) {
			more = fmt.Sprintf("\n  ... and %d more", nMissing-len(missing))
		}
		return nil, fmt.Errorf("%w: %s: %d of %d files have no usable contents:\n  %s%s", ErrIncomplete, b.Dir,
			nMissing, nMissing+rep.Files, strings.Join(missing, "\n  "), more)
	}
	return rep, nil
}

// ReadInfoPlist returns the raw Info.plist (bounded, through the folder's confined
// opener): what a restore hands the device as the list of apps to reinstall.
func (b *Backup) ReadInfoPlist() ([]byte, error) {
	return b.dir.readBounded("Info.plist", manifest.MaxInfoPlistSize)
}
