package gen

import (
	"database/sql"
	"fmt"
	"strings"
)

// The photo library (CameraRollDomain Media/PhotoData/Photos.sqlite). The asset table
// is ZGENERICASSET up to iOS 13 and ZASSET from iOS 14 (iLEAPP's Photos.sqlite parsers
// keep one query per version for this reason); albums are ZGENERICALBUM (ZKIND 2 = a
// user's album). The album-asset join table is named after Core Data entity numbers
// that change with the model. The numbers here follow the table osxphotos
// (RhetTbull/osxphotos) keeps for the macOS Photos models, which iOS of the same year
// shares: Z_26ASSETS for Photos 5-6 (iOS 13-14), Z_27ASSETS for 7 (iOS 15),
// Z_28ASSETS for 8-9.5 (iOS 16-17), Z_30ASSETS for Photos 10 (iOS 18); the asset
// column is Z_3ASSETS from iOS 14 (ZASSET is entity 3). The iOS 11-12 numbers (Z_20,
// Z_23, with ZGENERICASSET's entity 34) are not verified against a device, which is
// the point: readers must find the table from the schema, never from a list.

// Photo is one asset row and where the backup holds its file.
type Photo struct {
	Directory, Filename string  // DCIM/100APPLE, IMG_0001.JPG
	Created             float64 // ZDATECREATED: seconds since 2001
	Video               bool
	Albums              []string
	// Missing marks an asset whose file the backup does not hold (iCloud-only).
	Missing bool
}

// photoSchema names the tables of iOS major version ver.
func photoSchema(ver int) (asset, join, albumsCol, assetsCol string) {
	asset, assetEnt := "ZASSET", "3"
	if ver < 14 {
		asset, assetEnt = "ZGENERICASSET", "34"
	}
	n := map[int]string{12: "23", 13: "26", 14: "26", 15: "27", 16: "28", 17: "28", 18: "30"}[ver]
	if n == "" {
		n = "20" // iOS 11 and earlier
	}
	return asset, "Z_" + n + "ASSETS", "Z_" + n + "ALBUMS", "Z_" + assetEnt + "ASSETS"
}

var photoAlbums = []struct {
	title string
	files []string
}{
	{"Holidays 🏖", []string{"IMG_0001.JPG", "IMG_0003.JPG", "IMG_0007.HEIC"}},
	{"Family", []string{"IMG_0002.JPG", "IMG_0003.JPG"}},
}

func photosDatabase(seed int64, ver int, dir string, names []string, t0 int64) ([]byte, []Photo, error) {
	var photos []Photo
	for i, n := range names {
		p := Photo{Directory: strings.TrimPrefix(dir, "Media/"), Filename: n,
			Created: float64(t0-appleEpoch-int64(len(names)-i)*day) + float64(seed&0xff)/256,
			Video:   strings.HasSuffix(n, ".MOV")}
		for _, a := range photoAlbums {
			for _, f := range a.files {
				if f == n {
					p.Albums = append(p.Albums, a.title)
				}
			}
		}
		photos = append(photos, p)
	}
	// An asset whose original stayed in iCloud: its row, no file.
	photos = append(photos, Photo{Directory: strings.TrimPrefix(dir, "Media/"), Filename: "IMG_0099.HEIC",
		Created: float64(t0-appleEpoch) - 0.5*day, Missing: true})
	asset, join, albumsCol, assetsCol := photoSchema(ver)
	img, err := sqliteImage(func(tx *sql.Tx) error {
		if err := execAll(tx,
			"CREATE TABLE "+asset+" (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER, ZKINDSUBTYPE INTEGER, ZHIDDEN INTEGER, ZFAVORITE INTEGER, ZTRASHEDSTATE INTEGER, ZWIDTH INTEGER, ZHEIGHT INTEGER, ZDATECREATED TIMESTAMP, ZMODIFICATIONDATE TIMESTAMP, ZTRASHEDDATE TIMESTAMP, ZDURATION FLOAT, ZDIRECTORY VARCHAR, ZFILENAME VARCHAR, ZUUID VARCHAR)",
			"CREATE TABLE ZGENERICALBUM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER, ZTRASHEDSTATE INTEGER, ZCACHEDCOUNT INTEGER, ZCREATIONDATE TIMESTAMP, ZTITLE VARCHAR, ZUUID VARCHAR)",
			"CREATE TABLE "+join+" ("+albumsCol+" INTEGER, "+assetsCol+" INTEGER, Z_FOK_"+strings.TrimPrefix(assetsCol, "Z_")+" INTEGER, PRIMARY KEY ("+albumsCol+", "+assetsCol+"))",
			// A table whose name looks like a join table but is not one: keywords.
			"CREATE TABLE Z_1KEYWORDS (Z_1ASSETATTRIBUTES INTEGER, Z_40KEYWORDS INTEGER)",
		); err != nil {
			return err
		}
		for i, p := range photos {
			kind := 0
			if p.Video {
				kind = 1
			}
			if _, err := tx.Exec("INSERT INTO "+asset+" (Z_PK, Z_ENT, Z_OPT, ZKIND, ZHIDDEN, ZTRASHEDSTATE, ZDATECREATED, ZDIRECTORY, ZFILENAME, ZUUID) VALUES (?, 3, 1, ?, 0, 0, ?, ?, ?, ?)",
				i+1, kind, p.Created, p.Directory, p.Filename, fmt.Sprintf("%08X-FFFF-4000-8000-%012X", uint32(seed), i+1)); err != nil {
				return fmt.Errorf("insert asset: %w", err)
			}
		}
		// The library and system albums (kinds 1552, 1600+) are not albums to show.
		if _, err := tx.Exec("INSERT INTO ZGENERICALBUM (Z_PK, Z_ENT, ZKIND, ZTITLE) VALUES (1, 1, 1552, NULL), (2, 1, 1600, 'Recently Deleted')"); err != nil {
			return fmt.Errorf("insert album: %w", err)
		}
		for ai, a := range photoAlbums {
			id := ai + 10
			if _, err := tx.Exec("INSERT INTO ZGENERICALBUM (Z_PK, Z_ENT, ZKIND, ZTITLE, ZCACHEDCOUNT) VALUES (?, 1, 2, ?, ?)", id, a.title, len(a.files)); err != nil {
				return fmt.Errorf("insert album: %w", err)
			}
			for fi, f := range a.files {
				for pi, p := range photos {
					if p.Filename == f {
						if _, err := tx.Exec("INSERT INTO "+join+" VALUES (?, ?, ?)", id, pi+1, fi); err != nil {
							return fmt.Errorf("insert album asset: %w", err)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("build Photos.sqlite: %w", err)
	}
	return img, photos, nil
}
