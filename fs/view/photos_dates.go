package view

import (
	"fmt"
	"path"
	"strings"

	"iosbackup/artifacts/export"
	"iosbackup/artifacts/photos"
	"iosbackup/manifest"
)

// photos/by-date/YYYY/YYYY-MM-DD/<file> and photos/albums/<album>/<file> from
// Photos.sqlite: the camera roll's own file nodes (the same inodes as photos/100APPLE
// and domains/), placed by creation date (local time, as the export places them).
// Trashed assets and originals the backup lacks are left out. Each original's mtime
// becomes its creation date in every view (tree.created).
func (t *tree) photoViews(res *photos.Result) map[string]Node {
	created := map[int32]int64{}
	byDay := map[string]memBuilder{} // "YYYY/YYYY-MM-DD" -> files
	albums := map[string]memBuilder{}
	for _, a := range res.Assets {
		if a.Trashed || a.Missing {
			continue
		}
		idx, ok := t.ix.Lookup(a.Domain, a.Path)
		if !ok || t.ix.Entry(idx).Kind != manifest.KindFile {
			continue
		}
		created[idx] = a.Created.Unix()
		rel := strings.TrimPrefix(export.PhotoPath(a), "photos/") // YYYY/YYYY-MM-DD/name
		day, name := path.Split(rel)
		day = strings.TrimSuffix(day, "/")
		if byDay[day] == nil {
			byDay[day] = memBuilder{}
		}
		node := &fileNode{t: t, idx: idx}
		byDay[day][uniqueName(byDay[day], name)] = node
		for _, al := range a.Albums {
			an := export.SafeName(al)
			if albums[an] == nil {
				albums[an] = memBuilder{}
			}
			albums[an][uniqueName(albums[an], name)] = node
		}
	}
	t.created.Store(&created)

	years := map[string]memBuilder{}
	for day, files := range byDay {
		year := path.Dir(day)
		if years[year] == nil {
			years[year] = memBuilder{}
		}
		years[year][path.Base(day)] = files.dir(t, "photos/by-date/"+day, t.when)
	}
	byDate := memBuilder{}
	for year, days := range years {
		byDate[year] = days.dir(t, "photos/by-date/"+year, t.when)
	}
	al := memBuilder{}
	for name, files := range albums {
		al[name] = files.dir(t, "photos/albums/"+name, t.when)
	}
	return map[string]Node{
		"by-date": byDate.dir(t, "photos/by-date", t.when),
		"albums":  al.dir(t, "photos/albums", t.when),
	}
}

// uniqueName is name, or "name (2).ext"... when b already holds it.
func uniqueName(b memBuilder, name string) string {
	out := name
	ext := path.Ext(name)
	for n := 2; b[out] != nil; n++ {
		out = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), n, ext)
	}
	return out
}
