package gen

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"iosbackup/manifest"
)

// fillerRoots are the folders under which filler grows, as caches and app data do.
var fillerRoots = [][2]string{
	{homeDomain, "Library/Caches"},
	{homeDomain, "Library/Application Support"},
	{cameraDomain, "Media/PhotoData/Thumbnails"},
	{mediaDomain, "Media/Downloads"},
	{keyboardDomain, "Library/Keyboard"},
	{rootDomain, "Library/Caches"},
	{"AppDomain-com.example.notes", "Documents"},
	{"AppDomain-com.example.chat", "Library/Caches/com.example.chat"},
	{"AppDomain-com.example.maps", "Documents/Offline"},
	{"AppDomainGroup-group.com.example.chat", "Shared"},
}

var fillerWords = []string{
	"cache", "data", "thumb", "index", "session", "blob", "chunk", "asset", "record",
	"state", "journal", "segment", "tile", "page", "entry", "frame",
}

var fillerExts = []struct {
	ext  string
	kind contentKind
}{
	{".dat", contentRandom}, {".txt", contentText}, {".json", contentText},
	{".bin", contentRandom}, {".log", contentText}, {"", contentRandom},
}

const (
	fillerMaxDepth     = 5
	fillerDirEvery     = 14 // about one new folder per this many filler rows
	fillerOmitDirEvery = 40 // one new folder in this many gets no row
)

type fillerDir struct {
	domain, path string
	depth        int
}

// planFiller adds deterministic folders and small files until the manifest has
// Options.Entries rows. Sizes are mostly a few hundred bytes (mean about 500), so a
// million entries write about half a GB, not many GB.
func (p *planner) planFiller() {
	target := p.opt.Entries
	if p.rows >= target {
		return
	}
	p.t.Entries = slices.Grow(p.t.Entries, target-p.rows+target/fillerOmitDirEvery)
	var dirs []fillerDir
	for _, r := range fillerRoots {
		dirs = append(dirs, fillerDir{domain: r[0], path: r[1]})
	}
	counter := 0
	for p.rows < target {
		counter++
		d := dirs[p.rng.IntN(len(dirs))]
		p.ensureDir(d.domain, d.path) // roots only exist once used
		if p.rng.IntN(fillerDirEvery) == 0 {
			if d.depth >= fillerMaxDepth {
				d = dirs[p.rng.IntN(len(fillerRoots))]
				p.ensureDir(d.domain, d.path)
			}
			nd := fillerDir{
				domain: d.domain,
				path:   fmt.Sprintf("%s/%s-%d", d.path, fillerWords[p.rng.IntN(len(fillerWords))], counter),
				depth:  d.depth + 1,
			}
			synthetic := p.rng.IntN(fillerOmitDirEvery) == 0
			p.newDir(nd.domain, nd.path, synthetic)
			dirs = append(dirs, nd)
			if !synthetic {
				continue
			}
			// A synthetic folder must hold a row, or no reader could ever see it.
			d = nd
			counter++
		}
		x := fillerExts[p.rng.IntN(len(fillerExts))]
		path := fmt.Sprintf("%s/%s_%07d%s", d.path, fillerWords[p.rng.IntN(len(fillerWords))], counter, x.ext)
		size := p.fillerSize()
		e := p.fileNoParents(d.domain, path, p.fillerClass(), modeFile,
			generated(x.kind, p.contentSeed(d.domain, path, 0), size, nil))
		e.BlobMissing = p.opt.OmitFillerBlobs
	}
}

// fillerSize: 85% under 512 B, 14% up to 2 KiB, 1% up to 16 KiB.
func (p *planner) fillerSize() int64 {
	switch r := p.rng.IntN(100); {
	case r < 85:
		return p.rng.Int64N(512)
	case r < 99:
		return p.sizeBetween(512, 2048)
	default:
		return p.sizeBetween(2048, 16384)
	}
}

// fillerClass mirrors a typical device: most files class 3, some 4, a few 1 and 2.
func (p *planner) fillerClass() uint32 {
	switch r := p.rng.IntN(20); {
	case r < 14:
		return 3
	case r < 18:
		return 4
	case r < 19:
		return 1
	default:
		return 2
	}
}

// planRevision turns the revision-0 plan into revision r: the device was used between
// the two backups. The changes depend only on (seed, r) and on the revision-0 plan.
func (p *planner) planRevision(r int) error {
	p.rng = newRevisionRand(p.opt.Seed, r)
	when := p.t0 + int64(r)*day

	// New messages: sms.db changes in every revision.
	sms, msgs, _, _, err := smsDatabase(p.opt.Seed, r, p.t.IOSMajor, p.opt.Messages, p.t0)
	if err != nil {
		return err
	}
	p.t.Messages = msgs
	var candidates []int
	for i := range p.t.Entries {
		e := &p.t.Entries[i]
		switch {
		case e.Domain == homeDomain && e.Path == smsPath:
			gap := e.TrueSize - e.RecordedSize
			e.content = literal(sms)
			e.TrueSize, e.RecordedSize = e.content.size, e.content.size-gap
			e.version = r
			e.MTime, e.CTime = when-600, when-600
		case e.Kind == manifest.KindFile && (e.content.kind == contentRandom || e.content.kind == contentText) &&
			e.RecordedSize == e.TrueSize && e.Path != bigFilePath && !p.parentSynthetic(e):
			// A file directly under a row-less folder may be all that reveals it:
			// removing it would leave a directory no reader can see.
			candidates = append(candidates, i)
		}
	}
	// Pick distinct files: the first ones change, the next ones go away.
	const nChanged, nRemoved = 4, 2
	p.rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	for _, i := range candidates[:min(nChanged, len(candidates))] {
		e := &p.t.Entries[i]
		size := max(0, e.TrueSize+p.rng.Int64N(2048)-512)
		e.content = generated(e.content.kind, p.contentSeed(e.Domain, e.Path, r), size, e.content.data)
		e.TrueSize, e.RecordedSize = e.content.size, e.content.size
		e.version = r
		e.MTime = when - int64(p.rng.IntN(6*3600))
		e.CTime = e.MTime
	}
	removed := make(map[int]bool)
	for _, i := range candidates[min(nChanged, len(candidates)):min(nChanged+nRemoved, len(candidates))] {
		removed[i] = true
	}
	kept := p.t.Entries[:0]
	for i := range p.t.Entries {
		if !removed[i] {
			kept = append(kept, p.t.Entries[i])
		}
	}
	p.t.Entries = kept
	p.dirs = make(map[string]int, len(p.dirs))
	for i := range p.t.Entries {
		if p.t.Entries[i].Kind == manifest.KindDir {
			p.dirs[dirKey(p.t.Entries[i].Domain, p.t.Entries[i].Path)] = i
		}
	}

	// New files: a photo, a preference file, a note in a new folder.
	first := len(p.t.Entries)
	p.file(cameraDomain, fmt.Sprintf("%s/IMG_%04d.JPG", photoDir, 9000+r), 3, modeFile, literal(jpegImage(p.opt.Seed, 9000+r)))
	p.file(homeDomain, fmt.Sprintf("Library/Preferences/com.example.revision%d.plist", r), 4, modeFile,
		literal(mustBinaryPlist(map[string]any{"Revision": r})))
	p.gen("AppDomain-com.example.notes", fmt.Sprintf("Documents/Revision %d/Note.txt", r), 3, contentText, 700, nil)
	// They were born between the two backups.
	for i := first; i < len(p.t.Entries); i++ {
		e := &p.t.Entries[i]
		e.Birth = when - int64(p.rng.IntN(day))
		e.MTime = e.Birth + int64(p.rng.IntN(600))
		e.CTime = e.MTime
	}
	return nil
}

func newRevisionRand(seed int64, r int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x7265766973696f6e^uint64(r)))
}

func (p *planner) parentSynthetic(e *TruthEntry) bool {
	i, ok := p.dirs[dirKey(e.Domain, parentOf(e.Path))]
	return ok && p.t.Entries[i].Synthetic
}
