package view

import (
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"iosbackup/manifest"
)

// common is what every node of one tree shares.
type common struct {
	opt      Options
	log      *log.Logger
	uid, gid uint32 // the user running iosbackup: owner of everything unless DeviceOwners
	when     int64  // times of the folders above the backups
	blocks   uint64 // 4 KiB blocks the manifests claim
	files    uint64 // entries

	// stopped is set when whoever serves the tree has stopped: background size
	// look-ups end early.
	stopped atomic.Bool
}

// tree is one opened backup and the precomputed shape of its views. Everything here is
// built once, in time linear in the number of domains (plus one pass over the entries):
// no node exists until a name is looked up.
type tree struct {
	c   *common
	src Source
	ix  *manifest.Index
	id  string // identity hashed into inode numbers

	when    int64    // times shown on virtual and synthesized folders: the newest mtime
	xattrs  bool     // some entry has extended attributes
	domains []string // domains listed under domains/ (sorted)

	mountPath map[string]string // domain -> absolute device folder, for placed domains
	mounts    *mountNode        // the device folders that hold domains
	apps      []*appFolder      // sorted by folder name
	inApps    map[string]bool   // domains shown somewhere under apps/
	photos    int32             // CameraRollDomain Media/DCIM, or -1

	// Per-entry caches, filled on first use. sizes holds FileSize+1 (0 unknown, -1 the
	// size could not be read); subdirs holds the number of directory children + 1.
	sizes   []atomic.Int64
	subdirs []atomic.Int32
	sizeErr sync.Map // int32 -> error: why FileSize failed
	logged  sync.Map // int32 -> struct{}: entries whose read failure was logged

	// sizeSlots bounds the FileSize calls that warmSizes runs at once, over every
	// listing of this backup in progress; warming maps a folder whose files' sizes are
	// being looked up to a channel closed when they are known.
	sizeSlots chan struct{}
	warming   sync.Map // int32 -> chan struct{}

	// data are the views read from the backup's databases (dataviews.go); created
	// maps a camera-roll original to its photo's creation date, its mtime everywhere.
	data    dataViews
	created atomic.Pointer[map[int32]int64]

	// blobs, when set, numbers files by the stored blob they read (history.go).
	blobs *blobInos
}

func newTree(c *common, src Source, id string) *tree {
	ix := src.Index()
	n := ix.Len()
	t := &tree{
		c:         c,
		src:       src,
		ix:        ix,
		id:        id,
		photos:    -1,
		mountPath: map[string]string{},
		mounts:    &mountNode{},
		inApps:    map[string]bool{},
		sizes:     make([]atomic.Int64, n),
		subdirs:   make([]atomic.Int32, n),
		sizeSlots: make(chan struct{}, sizeWorkers),
	}
	var bytes uint64
	for i := 0; i < n; i++ {
		e := ix.Entry(int32(i))
		if e.MTime > t.when {
			t.when = e.MTime
		}
		if len(e.XAttrs()) > 0 {
			t.xattrs = true
		}
		if e.Kind == manifest.KindFile && e.Size > 0 {
			bytes += uint64(e.Size)
		}
	}
	c.blocks += (bytes + 4095) / 4096
	c.files += uint64(n)
	c.when = max(c.when, t.when)

	domains := ix.Domains()
	for _, d := range domains {
		root, _ := ix.DomainRoot(d)
		if validName(d) {
			t.domains = append(t.domains, d)
		}
		if p, ok := domainDevicePath(d); ok {
			t.mountPath[d] = p
			t.mounts.add(p, root)
		}
	}
	t.buildApps(domains)
	if i, ok := ix.Lookup("CameraRollDomain", photosPath); ok && ix.Entry(i).Kind == manifest.KindDir {
		t.photos = i
	}
	return t
}

// size is what reads of the file return, cached. A file whose size cannot be determined
// (missing or damaged blob) shows as empty; opening it fails with EIO.
func (t *tree) size(idx int32) int64 {
	v := t.sizes[idx].Load()
	if v > 0 {
		return v - 1
	}
	if v < 0 {
		return 0
	}
	n, err := t.src.FileSize(t.ix.Entry(idx))
	if err != nil || n < 0 {
		if err == nil {
			err = fmt.Errorf("negative size %d", n)
		}
		t.sizeErr.Store(idx, err)
		t.sizes[idx].Store(-1)
		return 0
	}
	t.sizes[idx].Store(n + 1)
	return n
}

// warmDir makes sure the sizes of the files in folder dir are known, looking them up in
// parallel (warmSizes), then starts the same for its subfolders in the background: a
// walk such as ls -lR, find or du opens them next, and finds their sizes ready instead
// of waiting for each folder's disk reads in turn. The look-ahead is one level, so
// listing one folder never reads more than its grandchildren's blobs.
func (t *tree) warmDir(dir int32) {
	t.warmFolder(dir)
	go func() {
		for _, c := range t.ix.Children(dir) {
			if t.c.stopped.Load() {
				return
			}
			if t.ix.Entry(c).Kind == manifest.KindDir {
				t.warmFolder(c)
			}
		}
	}()
}

// warmFolder looks up the sizes of dir's files, or waits for the look-up already under
// way for it, so that no blob is read twice for one folder.
func (t *tree) warmFolder(dir int32) {
	if len(t.unknownSizes(t.ix.Children(dir))) == 0 {
		return // the common case once a folder has been listed: no channel, no map
	}
	done := make(chan struct{})
	if prev, busy := t.warming.LoadOrStore(dir, done); busy {
		<-prev.(chan struct{})
		return
	}
	t.warmSizes(t.unknownSizes(t.ix.Children(dir)))
	t.warming.Delete(dir) // a later call finds every size cached: a scan, no reads
	close(done)
}

// unknownSizes are the files among entries whose size has not been looked up yet.
func (t *tree) unknownSizes(entries []int32) []int32 {
	var todo []int32
	for _, c := range entries {
		if t.sizes[c].Load() == 0 && t.ix.Entry(c).Kind == manifest.KindFile {
			todo = append(todo, c)
		}
	}
	return todo
}

// sizeWorkers is how many file sizes warmSizes looks up at once: enough to keep the
// queue of an SSD or a virtual disk full, few enough to be harmless on a spinning one.
const sizeWorkers = 32

// warmSizes looks up, in parallel, the sizes of the files todo.
// A listing (READDIRPLUS) asks for its children's attributes one by one, and the size of
// an encrypted file costs a read of its blob's last block (of a plain one, a stat of
// its blob): done one at a time on a cold cache, ls -lR of 100,000 files waits for
// 100,000 disk latencies in a row. Done here, when the folder is opened, the reads
// overlap and the listing finds every size cached.
func (t *tree) warmSizes(todo []int32) {
	if len(todo) == 0 {
		return
	}
	if len(todo) == 1 {
		t.size(todo[0]) // no worker needed
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(sizeWorkers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.sizeSlots <- struct{}{}
			defer func() { <-t.sizeSlots }()
			for i := next.Add(1) - 1; i < int64(len(todo)) && !t.c.stopped.Load(); i = next.Add(1) - 1 {
				t.size(todo[i])
			}
		}()
	}
	wg.Wait()
}

// dirLinks is 2 + the number of subdirectories of a directory entry, cached.
func (t *tree) dirLinks(idx int32) uint32 {
	if v := t.subdirs[idx].Load(); v > 0 {
		return uint32(v-1) + 2
	}
	n := int32(0)
	for _, c := range t.ix.Children(idx) {
		if t.ix.Entry(c).Kind == manifest.KindDir && validName(t.ix.Name(c)) {
			n++
		}
	}
	t.subdirs[idx].Store(n + 1)
	return uint32(n) + 2
}

// logOnce logs a read failure of an entry the first time it happens: a tool retrying
// the same file must not flood the log.
func (t *tree) logOnce(idx int32, err error) {
	if _, seen := t.logged.LoadOrStore(idx, struct{}{}); seen {
		return
	}
	e := t.ix.Entry(idx)
	name := e.Domain + "/" + e.Path
	msg := err.Error()
	if !strings.Contains(msg, name) {
		msg = name + ": " + msg
	}
	t.c.log.Printf("iosbackup: cannot read %s", msg)
}

// views counts the places a file or raw symlink appears in this backup's folder: its
// st_nlink, so that du and cp -a count or copy it once.
func (t *tree) views(idx int32) uint32 {
	e := t.ix.Entry(idx)
	n := uint32(0)
	if validName(e.Domain) {
		n++
	}
	if t.inApps[e.Domain] {
		n++
	}
	if t.photos >= 0 && e.Domain == "CameraRollDomain" && strings.HasPrefix(e.Path, photosPath+"/") {
		n++
	}
	if t.deviceWinner(idx) {
		n++
	}
	return max(n, 1)
}

// runningUser returns the uid and gid that own what the tree shows by default.
func runningUser() (uint32, uint32) {
	return uint32(os.Getuid()), uint32(os.Getgid())
}
