package history

import (
	"fmt"
	"os"
	"path/filepath"

	"iosbackup/backup"
)

// Info describes one snapshot for listing: what its property lists say, what its
// record holds, and how it differs from the snapshot before it.
type Info struct {
	Snapshot
	ProductVersion string // iOS version
	DeviceName     string
	Encrypted      bool
	Files          int // blobs: file rows with contents
	// Added, Changed and Removed count blobs (by file ID) against the previous
	// snapshot; for the oldest one, every blob is added.
	Added, Changed, Removed int
	// Bytes is the size of all its files; OwnBytes the part no other snapshot and
	// not the live backup shares with it: what forgetting it frees.
	Bytes, OwnBytes int64
}

// Describe lists the snapshots of live with their figures, oldest first.
func Describe(live string) ([]Info, error) {
	snaps, err := List(live)
	if err != nil {
		return nil, err
	}
	recs := make([]*Record, len(snaps))
	for i, s := range snaps {
		if recs[i], err = ReadRecord(s.Dir); err != nil {
			return nil, err
		}
	}
	// Who holds each content: a hard link is seen by its inode, a clone or copy by
	// its SHA-256 in another snapshot's record.
	holders := map[[32]byte]int{}
	for _, r := range recs {
		for _, b := range r.All() {
			holders[b.SHA256]++
		}
	}
	out := make([]Info, len(snaps))
	for i, s := range snaps {
		inf := Info{Snapshot: s, Files: len(recs[i].Blobs)}
		if sum, err := backup.Summarize(s.Dir, false); err == nil {
			inf.ProductVersion, inf.DeviceName, inf.Encrypted = sum.ProductVersion, sum.DeviceName, sum.Encrypted
		}
		var prev map[string]BlobRecord
		if i > 0 {
			prev = recs[i-1].Blobs
		}
		for id, b := range recs[i].Blobs {
			p, ok := prev[id]
			switch {
			case !ok:
				inf.Added++
			case p.SHA256 != b.SHA256 || p.Size != b.Size:
				inf.Changed++
			}
		}
		for id := range prev {
			if _, ok := recs[i].Blobs[id]; !ok {
				inf.Removed++
			}
		}
		for _, b := range recs[i].All() {
			inf.Bytes += b.Size
			if own(filepath.Join(s.Dir, filepath.FromSlash(b.Path)), live, b, holders) {
				inf.OwnBytes += b.Size
			}
		}
		out[i] = inf
	}
	return out, nil
}

// own reports whether a snapshot file is its own: its inode has no other link, no
// other snapshot records the same contents, and the live backup's file of the same
// path is not the same inode.
func own(p, live string, b BlobRecord, holders map[[32]byte]int) bool {
	fi, err := os.Lstat(p)
	if err != nil {
		return false
	}
	if linkCount(fi) > 1 {
		return false
	}
	if holders[b.SHA256] > 1 {
		return false
	}
	if lfi, err := os.Lstat(filepath.Join(live, filepath.FromSlash(b.Path))); err == nil {
		if os.SameFile(fi, lfi) {
			return false
		}
	}
	return true
}

// String is a one-line description, for logs.
func (i Info) String() string {
	return fmt.Sprintf("%s iOS %s, %d files (+%d ~%d -%d), %d bytes own", i.Name, i.ProductVersion, i.Files, i.Added, i.Changed, i.Removed, i.OwnBytes)
}
