package view

import (
	"sync/atomic"

	"iosbackup/manifest"
)

// A backup shown with its history (Backup.History) is a folder of two: latest/, the
// backup's own views, and history/<snapshot>/, each snapshot's. Snapshots share their
// unchanged blobs with each other and the live folder (hard links or clones), and
// the tree shows that: a file whose blob is the same stored file (BlobIdentifier)
// is the same inode in every one of them, so du -s of the history counts it once and
// diff -r between two snapshots skips it without reading (GNU diff compares device and
// inode first).

// BlobIdentifier is optionally implemented by a Source that can name the stored file
// holding an entry's contents (a device and inode number): entries with the same
// identity, in any backup of the tree, are one inode.
type BlobIdentifier interface {
	BlobIdentity(e *manifest.Entry) (string, bool)
}

// blobInos caches, per entry, the inode number derived from its blob identity (0: not
// looked up yet, 1: the entry has none, so its path decides).
type blobInos struct {
	src  BlobIdentifier
	inos []atomic.Uint64
}

func (b *blobInos) ino(e *manifest.Entry, idx int32) (uint64, bool) {
	if idx < 0 || int(idx) >= len(b.inos) {
		return 0, false
	}
	v := b.inos[idx].Load()
	if v == 0 {
		v = 1
		if id, ok := b.src.BlobIdentity(e); ok {
			v = hashIno("blob", inoFile, id, "")
		}
		b.inos[idx].Store(v)
	}
	return v, v != 1
}

// shareBlobInodes makes t number its files by blob identity when its source can tell.
func (t *tree) shareBlobInodes() {
	if bi, ok := t.src.(BlobIdentifier); ok {
		t.blobs = &blobInos{src: bi, inos: make([]atomic.Uint64, t.ix.Len())}
	}
}

// historyFolder makes d the folder of a backup with snapshots: latest/ and history/.
func historyFolder(d *virtualDir, c *common, b Backup, name string, t *tree, snaps []Backup, snapTrees []*tree) {
	latest := &virtualDir{}
	backupFolder(latest, c, Backup{Name: b.Name, Source: b.Source, Err: b.Err}, name, t)
	names := make([]string, len(snaps))
	for i, s := range snaps {
		names[i] = sanitizeName(s.Name, "snapshot")
	}
	names = uniqueNames(names, nil)
	folders := make([]*virtualDir, len(snaps))
	for i, s := range snaps {
		folders[i] = &virtualDir{}
		backupFolder(folders[i], c, s, name+"/history/"+names[i], snapTrees[i])
	}
	order := sortedOrder(names)
	sorted := make([]string, len(names))
	for i, k := range order {
		sorted[i] = names[k]
	}
	hist := &virtualDir{
		c:     c,
		ino:   hashIno(name, inoDir, "history", ""),
		names: sorted,
		make:  func(i int) Node { return folders[order[i]] },
		when:  c.when,
	}
	*d = virtualDir{
		c:     c,
		ino:   hashIno(name, inoDir, "backup with history", ""),
		names: []string{"history", "latest"},
		when:  c.when,
		make: func(i int) Node {
			if i == 0 {
				return hist
			}
			return latest
		},
	}
}
