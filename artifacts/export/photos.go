package export

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"iosbackup/artifacts/photos"
	"iosbackup/backup"
)

// Photos copies the originals the backup holds into DEST/photos/YYYY/YYYY-MM-DD/ with
// their creation time as mtime, and links each into DEST/photos/albums/<album>/ (a
// hard link, a copy where the file system has none). Trashed assets are left out.
func Photos(ctx context.Context, b *backup.Backup, dir string, opt Options) (Stats, error) {
	var st Stats
	res, err := photos.Read(ctx, b)
	if err != nil {
		return st, err
	}
	var kept []photos.Asset
	for _, a := range res.Assets {
		if a.Trashed || !opt.inRange(a.Created) {
			continue
		}
		if a.Missing {
			st.Missing++
			continue
		}
		kept = append(kept, a)
	}
	d, err := openDest(dir, &st)
	if err != nil {
		return st, err
	}
	defer d.Close()
	used := map[string]bool{}
	for i, a := range kept {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rel := PhotoPath(a)
		for n := 2; used[rel]; n++ {
			ext := path.Ext(a.Filename)
			rel = path.Join(path.Dir(PhotoPath(a)), fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(a.Filename, ext), n, ext))
		}
		used[rel] = true
		if err := d.mkdir(path.Dir(rel)); err != nil {
			return st, err
		}
		if err := d.copyFile(b, a.Domain, a.Path, rel, a.Created); err != nil {
			return st, err
		}
		for _, album := range a.Albums {
			link := "photos/albums/" + SafeName(album) + "/" + path.Base(rel)
			if err := d.mkdir(path.Dir(link)); err != nil {
				return st, err
			}
			if err := d.link(rel, link); err != nil {
				if errors.Is(err, ErrExists) {
					return st, err
				}
				if err := d.copyFile(b, a.Domain, a.Path, link, a.Created); err != nil {
					return st, err
				}
			}
		}
		st.Items++
		opt.progress(int64(i+1), int64(len(kept)))
	}
	st.Records, st.Skipped = st.Items, int64(res.Skipped)
	return st, nil
}

// PhotoPath is where an asset goes by date: photos/YYYY/YYYY-MM-DD/<file>, local time.
func PhotoPath(a photos.Asset) string {
	t := a.Created.In(time.Local)
	return "photos/" + t.Format("2006") + "/" + t.Format("2006-01-02") + "/" + SafeName(a.Filename)
}

func (d *dest) link(oldRel, newRel string) error {
	if _, err := d.root.Lstat(filepath.FromSlash(newRel)); err == nil {
		return fmt.Errorf("export: %s: %w (choose an empty DEST)", filepath.Join(d.name, newRel), ErrExists)
	}
	return d.root.Link(filepath.FromSlash(oldRel), filepath.FromSlash(newRel))
}
