package view

// photosPath is where the Camera Roll keeps DCIM folders inside CameraRollDomain.
const photosPath = "Media/DCIM"

// photos/100APPLE/IMG_0001.HEIC: CameraRollDomain's Media/DCIM, empty without one.
func (t *tree) photosDir() Node {
	if t.photos < 0 {
		return &virtualDir{c: t.c, ino: t.dirIno("photos"), when: t.when}
	}
	return &entryDir{v: newSubtree(t, "photos", t.photos), idx: t.photos}
}
