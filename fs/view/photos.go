package view

// photosPath is where the Camera Roll keeps DCIM folders inside CameraRollDomain.
const photosPath = "Media/DCIM"

// photos/100APPLE/IMG_0001.HEIC: CameraRollDomain's Media/DCIM, empty without one;
// beside its folders, by-date/ and albums/ when Photos.sqlite could be read
// (photos_dates.go).
func (t *tree) photosDir() Node {
	var base Dir = &virtualDir{c: t.c, ino: t.dirIno("photos"), when: t.when}
	if t.photos >= 0 {
		base = &entryDir{v: newSubtree(t, "photos", t.photos), idx: t.photos}
	}
	extra := t.loadData().photos
	if len(extra) == 0 {
		return base
	}
	return &extendedDir{Dir: base, extra: extra}
}

// extendedDir is a backup folder with views added beside its own children (which win
// on a clash of names).
type extendedDir struct {
	Dir
	extra map[string]Node
}

func (d *extendedDir) Attr() Attr {
	a := d.Dir.Attr()
	a.Nlink += uint32(len(d.extra))
	return a
}

func (d *extendedDir) Lookup(name string) Node {
	if n := d.Dir.Lookup(name); n != nil {
		return n
	}
	return d.extra[name]
}

func (d *extendedDir) List() Cursor {
	b := memBuilder{}
	for name, n := range d.extra {
		b[name] = n
	}
	c := d.Dir.List()
	for name, n := c.Next(); n != nil; name, n = c.Next() {
		b[name] = n
	}
	m := &memDir{}
	m.names, m.kids = b.sorted()
	return m.List()
}
