package photos

import (
	"context"
	"slices"
	"testing"

	"iosbackup/artifacts/internal/gentest"
	"iosbackup/artifacts/internal/sqlitex"
)

func TestPhotosMatchTruth(t *testing.T) {
	for _, v := range gentest.Versions {
		t.Run(v.Name, func(t *testing.T) {
			truth, b := gentest.Generate(t, v)
			res, err := Read(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Assets) != len(truth.Photos) || res.Skipped != 0 {
				t.Fatalf("%d assets (%d skipped), want %d", len(res.Assets), res.Skipped, len(truth.Photos))
			}
			if !slices.Equal(res.Albums, []string{"Holidays 🏖", "Family"}) {
				t.Errorf("albums %q (join table %q)", res.Albums, res.JoinTable)
			}
			// Truth is in creation order too: dates grow with the row.
			missing := 0
			for i, a := range res.Assets {
				w := truth.Photos[i]
				if a.Filename != w.Filename || a.Dir != w.Directory || !a.Created.Equal(sqlitex.CoreDataTime(w.Created)) ||
					a.Video != w.Video || a.Missing != w.Missing || !slices.Equal(a.Albums, w.Albums) {
					t.Errorf("asset %d: %+v, want %+v", i, a, w)
				}
				if a.Missing {
					missing++
					continue
				}
				if e := truth.Lookup(a.Domain, a.Path); e == nil {
					t.Errorf("asset %s: %s/%s not in the backup", a.Filename, a.Domain, a.Path)
				}
			}
			if missing != 1 {
				t.Errorf("%d assets without their file, want 1", missing)
			}
		})
	}
}
