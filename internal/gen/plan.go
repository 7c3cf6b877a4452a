package gen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"iosbackup/manifest"
)

// Modes as iOS records them.
const (
	modeFile    = 0o100644
	modePrivate = 0o100600
	modeDir     = 0o040755
	modeSymlink = 0o120755
	mobileUID   = 501
)

const day = 24 * 60 * 60

// planner decides every entry of the backup before anything is written. All
// randomness comes from one PCG stream seeded by Options.Seed, consumed in a fixed
// order, so the same options always give the same Truth.
type planner struct {
	opt   Options
	t     *Truth
	rng   *rand.Rand
	t0    int64  // date of the revision-0 backup, Unix seconds
	inode uint64 // last inode number handed out
	dirs  map[string]int
	omit  map[string]bool // directories written without a row
	rows  int
}

// plan builds the Truth (minus what only writing reveals: digests, blob sizes).
func plan(opt Options) (*Truth, error) {
	p := &planner{
		opt:  opt,
		rng:  rand.New(rand.NewPCG(uint64(opt.Seed), 0x696f736261636b75)),
		dirs: make(map[string]int),
		omit: make(map[string]bool),
	}
	p.t = &Truth{
		Format:    opt.Format,
		Seed:      opt.Seed,
		Revision:  opt.Revision,
		Encrypted: opt.Encrypted,
		Password:  opt.Password,
	}
	p.planDevice()
	p.inode = 180_000 + uint64(p.rng.IntN(100_000)) // a used data partition
	if err := p.planBase(); err != nil {
		return nil, err
	}
	p.planFiller()
	if opt.Revision > 0 {
		if err := p.planRevision(opt.Revision); err != nil {
			return nil, err
		}
	}
	p.t.Rows = 0
	for i := range p.t.Entries {
		if !p.t.Entries[i].Synthetic {
			p.t.Rows++
		}
	}
	return p.t, nil
}

func (p *planner) planDevice() {
	t, opt := p.t, p.opt
	// Around mid-2021, a different day for each seed.
	p.t0 = time.Date(2021, 6, 1, 9, 0, 0, 0, time.UTC).Unix() + int64(p.rng.IntN(730))*day + int64(p.rng.IntN(day))
	t.BackupDate = time.Unix(p.t0+int64(opt.Revision)*day+int64(opt.Revision)*1234, 0).UTC()

	t.DeviceName = opt.DeviceName
	if t.DeviceName == "" {
		t.DeviceName = "Synthetic iPhone"
	}
	t.DisplayName = t.DeviceName
	if opt.Format == FormatMBDB {
		t.ProductType, t.ProductVersion, t.BuildVersion = "iPhone7,2", "9.3.5", "13G36"
	} else {
		t.ProductType, t.ProductVersion, t.BuildVersion = "iPhone12,1", "14.8", "18H17"
	}
	if opt.ProductVersion != "" {
		t.ProductVersion = opt.ProductVersion
	}
	udid := p.hex(20)
	if opt.Format == FormatDB {
		// Devices from 2018 on have 25-character UDIDs: chip ID, dash, ECID.
		udid = "00008030-" + strings.ToUpper(udid[:16])
	}
	t.UDID = udid
	if opt.UDID != "" {
		t.UDID = opt.UDID
	}
	const serialChars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	var sb strings.Builder
	sb.WriteByte('F')
	for range 11 {
		sb.WriteByte(serialChars[p.rng.IntN(len(serialChars))])
	}
	t.SerialNumber = sb.String()
	t.IMEI = fmt.Sprintf("35%013d", p.rng.Int64N(1e13))
	t.PhoneNumber = fmt.Sprintf("+1 (555) 01%02d-%04d", p.rng.IntN(100), p.rng.IntN(10000))

	t.Apps = []App{
		{BundleID: "com.example.notes", DisplayName: "Notes Pro", AppName: "NotesPro", Version: "4.2.1", Vendor: "Example Software Ltd."},
		{BundleID: "com.example.chat", DisplayName: "Chatter", AppName: "Chatter", Version: "12.0.3", Vendor: "Chatter Inc."},
		{BundleID: "com.example.maps", DisplayName: "Wayfinder – Offline Maps", AppName: "Wayfinder", Version: "2.7", Vendor: "Example Maps GmbH"},
	}
	for i := range t.Apps {
		t.Apps[i].ContainerID = p.uuid()
	}
}

// hex returns n random bytes as lowercase hex.
func (p *planner) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = digits[p.rng.IntN(16)]
	}
	return string(b)
}

// uuid returns an uppercase RFC 4122 version-4 UUID string.
func (p *planner) uuid() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], p.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], p.rng.Uint64())
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// times draws plausible birth, modification and status-change times: created up to
// two years before the backup, modified since, the status changed soon after.
func (p *planner) times() (birth, mtime, ctime int64) {
	birth = p.t0 - int64(p.rng.IntN(730*day))
	mtime = birth + p.rng.Int64N(p.t0-birth+1)
	ctime = min(mtime+int64(p.rng.IntN(3600)), p.t0)
	return birth, mtime, ctime
}

func (p *planner) nextInode() uint64 {
	p.inode += 1 + uint64(p.rng.IntN(37))
	return p.inode
}

// contentSeed derives a file's content seed from its identity, not from the position
// in the random stream, so revisions can add and remove files without disturbing the
// contents of the others.
func (p *planner) contentSeed(domain, path string, version int) uint64 {
	id := manifest.ComputeFileID(domain, path)
	x := binary.LittleEndian.Uint64(id[:8])
	return mix64(x ^ mix64(uint64(p.opt.Seed)) ^ uint64(version)*0xd1b54a32d192ed03)
}

func dirKey(domain, path string) string { return domain + "\x00" + path }

// add appends an entry, counting it as a row unless it is synthetic.
func (p *planner) add(e TruthEntry) int {
	p.t.Entries = append(p.t.Entries, e)
	if !e.Synthetic {
		p.rows++
	}
	return len(p.t.Entries) - 1
}

// ensureDir makes sure (domain, path) and all its parents exist as directories,
// domain root included. Directories listed in p.omit become synthetic.
func (p *planner) ensureDir(domain, path string) {
	if _, ok := p.dirs[dirKey(domain, path)]; ok {
		return
	}
	if path != "" {
		parent := ""
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			parent = path[:i]
		}
		p.ensureDir(domain, parent)
	}
	p.newDir(domain, path, p.omit[dirKey(domain, path)])
}

// newDir adds a directory whose parent is known to exist.
func (p *planner) newDir(domain, path string, synthetic bool) {
	e := TruthEntry{Domain: domain, Path: path, Kind: manifest.KindDir, Mode: modeDir, Synthetic: synthetic}
	if !synthetic {
		e.UID, e.GID = p.owner(domain)
		e.Inode = p.nextInode()
		e.Birth, e.MTime, e.CTime = p.times()
	}
	p.dirs[dirKey(domain, path)] = p.add(e)
}

func (p *planner) owner(domain string) (uid, gid uint32) {
	if domain == "RootDomain" {
		return 0, 0
	}
	return mobileUID, mobileUID
}

func parentOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return ""
}

// file adds a regular file after its parent directories.
func (p *planner) file(domain, path string, class uint32, mode uint32, c contentSpec) *TruthEntry {
	p.ensureDir(domain, parentOf(path))
	return p.fileNoParents(domain, path, class, mode, c)
}

func (p *planner) fileNoParents(domain, path string, class uint32, mode uint32, c contentSpec) *TruthEntry {
	uid, gid := p.owner(domain)
	e := TruthEntry{
		Domain: domain, Path: path, Kind: manifest.KindFile, Mode: mode, UID: uid, GID: gid,
		Inode: p.nextInode(), ProtectionClass: class,
		RecordedSize: c.size, TrueSize: c.size, content: c,
	}
	e.Birth, e.MTime, e.CTime = p.times()
	return &p.t.Entries[p.add(e)]
}

// gen adds a file of generated bytes (random or text) of the given size.
func (p *planner) gen(domain, path string, class uint32, kind contentKind, size int64, header []byte) *TruthEntry {
	return p.file(domain, path, class, modeFile, generated(kind, p.contentSeed(domain, path, 0), size, header))
}

func (p *planner) symlink(domain, path, target string) {
	p.ensureDir(domain, parentOf(path))
	uid, gid := p.owner(domain)
	e := TruthEntry{
		Domain: domain, Path: path, Kind: manifest.KindSymlink, Mode: modeSymlink,
		UID: uid, GID: gid, Inode: p.nextInode(), Target: target,
	}
	e.Birth, e.MTime, e.CTime = p.times()
	p.add(e)
}

// sizeBetween draws a size in [lo, hi).
func (p *planner) sizeBetween(lo, hi int64) int64 { return lo + p.rng.Int64N(hi-lo) }
