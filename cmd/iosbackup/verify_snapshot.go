package main

import (
	"errors"

	"iosbackup/backup"
	"iosbackup/history"
)

// snapshotRecord reads what history recorded of the snapshot folder dir when it was
// taken, for verify to check against: nil for a folder that is no snapshot (the live
// backup, or a backup of another tool).
func snapshotRecord(dir string) (*backup.SnapshotRecord, error) {
	rec, err := history.ReadRecord(dir)
	if errors.Is(err, history.ErrNoRecord) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &backup.SnapshotRecord{
		Blobs: make(map[string]backup.RecordedFile, len(rec.Blobs)),
		Files: make(map[string]backup.RecordedFile, len(rec.Files)),
	}
	for id, b := range rec.Blobs {
		out.Blobs[id] = backup.RecordedFile{Size: b.Size, SHA256: b.SHA256}
	}
	for p, b := range rec.Files {
		out.Files[p] = backup.RecordedFile{Size: b.Size, SHA256: b.SHA256}
	}
	return out, nil
}
