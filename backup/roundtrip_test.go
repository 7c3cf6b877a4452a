package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"iosbackup/decrypt"
	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// generate writes a backup with a fast KDF and returns its truth.
func generate(t *testing.T, opt gen.Options) *gen.Truth {
	t.Helper()
	if opt.Encrypted {
		opt.Password = "pw-" + fmt.Sprint(opt.Seed)
		opt.SHA256Rounds, opt.SHA1Rounds = 1000, 10
	}
	dir := filepath.Join(t.TempDir(), "backup")
	truth, err := gen.Generate(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

// TestRoundTrip reads every entry of generated backups in both formats, plain and
// encrypted, and compares it with what the generator wrote, byte for byte.
func TestRoundTrip(t *testing.T) {
	for _, format := range []gen.Format{gen.FormatDB, gen.FormatMBDB} {
		for _, enc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/encrypted=%v", format, enc), func(t *testing.T) {
				t.Parallel()
				truth := generate(t, gen.Options{Seed: 7, Format: format, Encrypted: enc, Entries: 600})
				b, err := Open(truth.Dir, Options{Password: password(truth.Password)})
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close() // an open Backup keeps its folder open: Windows cannot delete it
				if b.Encrypted != enc {
					t.Fatalf("Encrypted = %v", b.Encrypted)
				}
				wantFormat := FormatDB
				if format == gen.FormatMBDB {
					wantFormat = FormatMBDB
				}
				if b.Format != wantFormat {
					t.Fatalf("format %v, want %v", b.Format, wantFormat)
				}
				checkAgainstTruth(t, b, truth)
				if enc {
					// The saved-key path opens it too, and a wrong password is told apart.
					b2, err := Open(truth.Dir, Options{Key: b.KEK()})
					if err != nil {
						t.Fatalf("reopen with KEK: %v", err)
					}
					b2.Close()
					_, err = Open(truth.Dir, Options{Password: password("nope")})
					if !errors.Is(err, decrypt.ErrWrongPassword) {
						t.Fatalf("wrong password: %v", err)
					}
				}
			})
		}
	}
}

func checkAgainstTruth(t *testing.T, b *Backup, truth *gen.Truth) {
	t.Helper()
	seen := 0
	for i := range truth.Entries {
		te := &truth.Entries[i]
		idx, ok := b.Index.Lookup(te.Domain, te.Path)
		if !ok {
			t.Fatalf("%s/%s: not in the index", te.Domain, te.Path)
		}
		e := b.Index.Entry(idx)
		seen++
		if e.Kind != te.Kind {
			t.Fatalf("%s/%s: kind %v, want %v", te.Domain, te.Path, e.Kind, te.Kind)
		}
		if te.Synthetic {
			if !e.Synthetic {
				t.Fatalf("%s/%s: listed without a row but not synthesized", te.Domain, te.Path)
			}
			continue
		}
		if e.Mode != te.Mode || e.MTime != te.MTime || e.UID != te.UID || e.Target() != te.Target {
			t.Fatalf("%s/%s: mode %o mtime %d uid %d target %q; want %o %d %d %q", te.Domain, te.Path,
				e.Mode, e.MTime, e.UID, e.Target(), te.Mode, te.MTime, te.UID, te.Target)
		}
		if e.Size != te.RecordedSize {
			t.Fatalf("%s/%s: recorded size %d, want %d", te.Domain, te.Path, e.Size, te.RecordedSize)
		}
		if fmt.Sprint(e.XAttrs()) != fmt.Sprint(te.XAttrs) {
			t.Fatalf("%s/%s: xattrs %v, want %v", te.Domain, te.Path, e.XAttrs(), te.XAttrs)
		}
		if te.Kind != manifest.KindFile {
			continue
		}
		f, err := b.OpenFile(e)
		if te.BlobMissing {
			if !errors.Is(err, ErrBlobMissing) {
				t.Fatalf("%s/%s: err %v, want ErrBlobMissing", te.Domain, te.Path, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s/%s: %v", te.Domain, te.Path, err)
		}
		want, _ := io.ReadAll(te.Content())
		// The true size comes from the blob (padding), never from the manifest: files
		// whose recorded Size is wrong on purpose must still read whole.
		if f.Size() != int64(len(want)) || f.Size() != te.TrueSize {
			t.Fatalf("%s/%s: size %d, want %d (recorded %d)", te.Domain, te.Path, f.Size(), len(want), te.RecordedSize)
		}
		got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
		f.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s/%s: contents differ (%v)", te.Domain, te.Path, err)
		}
		if n, err := b.FileSize(e); err != nil || n != te.TrueSize {
			t.Fatalf("%s/%s: FileSize %d %v", te.Domain, te.Path, n, err)
		}
	}
	if seen == 0 {
		t.Fatal("empty truth")
	}
}

// TestHostileAndDamaged: truncated blobs and a blob cut to a non-block size give errors
// naming the file; an encrypted backup whose Manifest.db is cut fails cleanly.
func TestHostileAndDamaged(t *testing.T) {
	truth := generate(t, gen.Options{Seed: 3, Encrypted: true, Entries: 200})
	b, err := Open(truth.Dir, Options{Password: password(truth.Password)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close() // an open Backup keeps its folder open: Windows cannot delete it
	var victim *manifest.Entry
	for i := range truth.Entries {
		te := &truth.Entries[i]
		if te.Kind == manifest.KindFile && te.TrueSize > 100 && !te.BlobMissing {
			idx, _ := b.Index.Lookup(te.Domain, te.Path)
			victim = b.Index.Entry(idx)
			break
		}
	}
	blob := b.BlobPath(victim)
	st, _ := os.Stat(blob)
	if err := os.Truncate(blob, st.Size()-7); err != nil {
		t.Fatal(err)
	}
	_, err = b.OpenFile(victim)
	if !errors.Is(err, decrypt.ErrNotBlockAligned) || !bytes.Contains([]byte(err.Error()), []byte(victim.Path)) {
		t.Fatalf("cut blob: %v", err)
	}
	// Cut the manifest: opening fails with an error, never a panic.
	db := filepath.Join(truth.Dir, "Manifest.db")
	st, _ = os.Stat(db)
	if err := os.Truncate(db, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(truth.Dir, Options{Key: b.KEK()}); err == nil {
		t.Fatal("a cut Manifest.db opened")
	}
}
