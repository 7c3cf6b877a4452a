// Package photos reads a backup's photo library (CameraRollDomain
// Media/PhotoData/Photos.sqlite): assets with their creation dates and albums, and the
// backup file that holds each original (Media/DCIM/...).
//
// The asset table is ZGENERICASSET (iOS 9-13) or ZASSET (14+), and the album-asset join
// table is named after Core Data entity numbers that change nearly every release
// (Z_20ASSETS ... Z_33ASSETS): both are found from the schema at run time.
package photos

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/backup"
)

// Where the database lives; originals are under Media/ in the same domain.
const (
	Domain = "CameraRollDomain"
	Path   = "Media/PhotoData/Photos.sqlite"
)

// Asset is one photo or video.
type Asset struct {
	ID       int64
	Filename string // IMG_0001.JPG
	Dir      string // as stored: DCIM/100APPLE
	Created  time.Time
	Video    bool
	Hidden   bool
	Trashed  bool
	Albums   []string
	// Domain and Path locate the original in the backup; Missing when the backup does
	// not hold it (an iCloud-only original).
	Domain, Path string
	Missing      bool
}

// Result is what Read found.
type Result struct {
	Assets  []Asset
	Albums  []string // user albums, by title
	Skipped int
	// JoinTable is the album-asset join table found ("" when none).
	JoinTable string
}

var joinName = regexp.MustCompile(`^Z_(\d+)ASSETS$`)
var assetsCol = regexp.MustCompile(`^Z_\d+ASSETS$`)

// findJoin finds the album-asset join table: a Z_<n>ASSETS table with a Z_<n>ALBUMS
// column and a Z_<m>ASSETS column.
func findJoin(s sqlitex.Schema) (table, albums, assets string) {
	var names []string
	for t := range s {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		m := joinName.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		alb := "Z_" + m[1] + "ALBUMS"
		if !s[t][alb] {
			continue
		}
		for c := range s[t] {
			if assetsCol.MatchString(c) {
				return t, alb, c
			}
		}
	}
	return "", "", ""
}

// Read reads the assets in creation order with their user albums.
func Read(ctx context.Context, b *backup.Backup) (*Result, error) {
	db, err := b.OpenSQLite(Domain, Path)
	if err != nil {
		return nil, fmt.Errorf("photos: %w", err)
	}
	defer db.Close()
	s, err := sqlitex.ReadSchema(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("photos: %s/%s: %w", Domain, Path, err)
	}
	asset := ""
	for _, t := range []string{"ZASSET", "ZGENERICASSET"} {
		if s.Has(t, "Z_PK", "ZFILENAME", "ZDIRECTORY") {
			asset = t
			break
		}
	}
	if asset == "" {
		return nil, fmt.Errorf("photos: %s/%s: no ZASSET or ZGENERICASSET table", Domain, Path)
	}
	col := func(c string) string { return s.Col(asset, "a", c) }
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT a.Z_PK, a.ZFILENAME, a.ZDIRECTORY, %s, %s, %s, %s FROM %s a ORDER BY %s, a.Z_PK`,
		col("ZDATECREATED"), col("ZKIND"), col("ZHIDDEN"), col("ZTRASHEDSTATE"), asset, col("ZDATECREATED")))
	if err != nil {
		return nil, fmt.Errorf("photos: %s/%s: %w", Domain, Path, err)
	}
	res := &Result{}
	index := map[int64]int{}
	for rows.Next() {
		var a Asset
		var name, dir sql.NullString
		var created sql.NullFloat64
		var kind, hidden, trashed sql.NullInt64
		if err := rows.Scan(&a.ID, &name, &dir, &created, &kind, &hidden, &trashed); err != nil || name.String == "" ||
			strings.Contains(name.String, "/") || name.String == ".." {
			res.Skipped++
			continue
		}
		a.Filename, a.Dir = name.String, dir.String
		a.Created = sqlitex.CoreDataTime(created.Float64)
		a.Video, a.Hidden, a.Trashed = kind.Int64 == 1, hidden.Int64 != 0, trashed.Int64 != 0
		a.Domain, a.Path, a.Missing = "", "", true
		// ZDIRECTORY is relative to Media/ (DCIM/100APPLE); some tools write it with
		// the Media/ prefix.
		d := strings.Trim(a.Dir, "/")
		for _, p := range []string{"Media/" + d + "/" + a.Filename, d + "/" + a.Filename} {
			if _, ok := b.Index.Lookup(Domain, p); ok {
				a.Domain, a.Path, a.Missing = Domain, p, false
				break
			}
		}
		index[a.ID] = len(res.Assets)
		res.Assets = append(res.Assets, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("photos: %s/%s: %w", Domain, Path, err)
	}
	if err := readAlbums(ctx, db, s, res, index); err != nil {
		return nil, err
	}
	return res, nil
}

// userAlbum is ZGENERICALBUM.ZKIND of an album the user made.
const userAlbum = 2

func readAlbums(ctx context.Context, db *sql.DB, s sqlitex.Schema, res *Result, index map[int64]int) error {
	album := ""
	for _, t := range []string{"ZGENERICALBUM", "ZALBUM"} {
		if s.Has(t, "Z_PK", "ZTITLE", "ZKIND") {
			album = t
			break
		}
	}
	join, albCol, assetCol := findJoin(s)
	res.JoinTable = join
	if album == "" || join == "" {
		return nil
	}
	q := fmt.Sprintf(`SELECT l.ZTITLE, j.%s FROM %s l JOIN %s j ON j.%s = l.Z_PK WHERE l.ZKIND = %d AND l.ZTITLE IS NOT NULL ORDER BY l.Z_PK, j.%s`,
		assetCol, album, join, albCol, userAlbum, assetCol)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("photos: %s/%s: albums: %w", Domain, Path, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var title string
		var id int64
		if err := rows.Scan(&title, &id); err != nil {
			res.Skipped++
			continue
		}
		if !seen[title] {
			seen[title] = true
			res.Albums = append(res.Albums, title)
		}
		if i, ok := index[id]; ok {
			res.Assets[i].Albums = append(res.Assets[i].Albums, title)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("photos: %s/%s: albums: %w", Domain, Path, err)
	}
	return nil
}
