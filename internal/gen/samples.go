package gen

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// appleEpoch is 2001-01-01T00:00:00Z in Unix seconds: iOS databases count from it.
const appleEpoch = 978307200

// sqliteImage builds an in-memory SQLite database with build and returns its file
// image. SQLite is deterministic, so the same statements give the same bytes, and
// nothing touches the disk.
func sqliteImage(build func(tx *sql.Tx) error) ([]byte, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("open in-memory sqlite: %w", err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("in-memory sqlite connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	if err := build(tx); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	var image []byte
	err = conn.Raw(func(dc any) error {
		s, ok := dc.(interface{ Serialize() ([]byte, error) })
		if !ok {
			return fmt.Errorf("sqlite driver %T cannot serialize", dc)
		}
		image, err = s.Serialize()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("serialize in-memory sqlite: %w", err)
	}
	return image, nil
}

func execAll(tx *sql.Tx, stmts ...string) error {
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// jpegImage draws a small deterministic picture (a gradient with a few discs) and
// encodes it as a real JPEG, so that image viewers and `file` accept it.
func jpegImage(seed int64, index int) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(index)))
	const w, h = 96, 64
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r0, g0, b0 := rng.IntN(256), rng.IntN(256), rng.IntN(256)
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(r0 + x*2), uint8(g0 + y*3), uint8(b0 + x + y), 255})
		}
	}
	for range 3 {
		cx, cy, r := rng.IntN(w), rng.IntN(h), 4+rng.IntN(14)
		c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		for y := max(0, cy-r); y < min(h, cy+r); y++ {
			for x := max(0, cx-r); x < min(w, cx+r); x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
					img.Set(x, y, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		panic(fmt.Sprintf("gen: encode JPEG to memory: %v", err)) // writes to a bytes.Buffer cannot fail
	}
	return buf.Bytes()
}

// iconPNG is the PlaceholderIcon of an app in Info.plist: a flat square of one colour.
func iconPNG(index int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	c := color.RGBA{uint8(60 * index), 120, uint8(200 - 40*index), 255}
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(fmt.Sprintf("gen: encode PNG to memory: %v", err)) // writes to a bytes.Buffer cannot fail
	}
	return buf.Bytes()
}

// cacheDatabase builds a real SQLite database of about size bytes: one table of
// seeded random blobs. It stands in for the caches and usage databases a device keeps
// whose contents no reader looks at; random bytes behind a SQLite header (what these
// files were before) are a corrupt database, and verify rightly reports them.
func cacheDatabase(seed int64, name string, size int64) ([]byte, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(len(name))*0x9e3779b97f4a7c15))
	const rowBytes = 1000
	img, err := sqliteImage(func(tx *sql.Tx) error {
		if err := execAll(tx, "CREATE TABLE cache (id INTEGER PRIMARY KEY, key TEXT, data BLOB)"); err != nil {
			return err
		}
		// About four rows of 1000 bytes fill a 4096-byte page; the first page holds
		// the schema.
		for i := range max(1, int(size/4096-1)*4) {
			data := make([]byte, rowBytes)
			for k := range data {
				data[k] = byte(rng.Uint32())
			}
			if _, err := tx.Exec("INSERT INTO cache (id, key, data) VALUES (?, ?, ?)", i+1, fmt.Sprintf("%s-%d", name, i), data); err != nil {
				return fmt.Errorf("insert cache row: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", name, err)
	}
	return img, nil
}
