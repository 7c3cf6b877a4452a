package export

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"iosbackup/backup"
)

// Options say what to export and how.
type Options struct {
	// Since and Until bound the dates (Until excluded); zero means unbounded.
	Since, Until time.Time
	// Conversation keeps the chats whose folder name, identifier or a member's handle
	// or name equals it (case-insensitively); "" keeps all.
	Conversation string
	// Formats of the messages export: "txt", "html", "json"; nil means txt and html.
	Formats []string
	Names   Names
	// Progress is called with the work done and the total (messages, contacts, calls
	// or photos) as the export advances; nil for none.
	Progress func(done, total int64)
}

func (o *Options) inRange(t time.Time) bool {
	return (o.Since.IsZero() || !t.Before(o.Since)) && (o.Until.IsZero() || t.Before(o.Until))
}

func (o *Options) progress(done, total int64) {
	if o.Progress != nil {
		o.Progress(done, total)
	}
}

// Stats count what an export wrote.
type Stats struct {
	Items   int   // conversations, contacts, calls or photos written
	Records int   // messages (or the items themselves)
	Files   int   // files written
	Bytes   int64 // their bytes
	// Missing counts files the database names that the backup does not hold;
	// Skipped rows that could not be read; Damaged bodies that could not be decoded.
	Missing, Skipped, Damaged int64
}

// ErrExists is returned when DEST already holds a file the export would write: an
// export never replaces what it did not write in this run.
var ErrExists = errors.New("already exists")

// dest is the export's folder, every write confined to it by an os.Root.
type dest struct {
	root  *os.Root
	name  string
	stats *Stats
}

func openDest(dir string, st *Stats) (*dest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &dest{root: root, name: dir, stats: st}, nil
}

func (d *dest) Close() error { return d.root.Close() }

func (d *dest) mkdir(rel string) error {
	if err := d.root.MkdirAll(filepath.FromSlash(rel), 0o755); err != nil {
		return fmt.Errorf("export: %s: %w", filepath.Join(d.name, rel), err)
	}
	return nil
}

// create makes a new file; an existing one is ErrExists.
func (d *dest) create(rel string) (*os.File, error) {
	f, err := d.root.OpenFile(filepath.FromSlash(rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("export: %s: %w (choose an empty DEST)", filepath.Join(d.name, rel), ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return f, nil
}

// write creates rel with what fill writes.
func (d *dest) write(rel string, fill func(io.Writer) error) error {
	f, err := d.create(rel)
	if err != nil {
		return err
	}
	cw := &countingWriter{w: f}
	err = fill(cw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export: %s: %w", filepath.Join(d.name, rel), err)
	}
	d.stats.Files++
	d.stats.Bytes += cw.n
	return nil
}

// copyFile copies a backup file (decrypting it) to rel and sets its times to mtime
// when it is not zero.
func (d *dest) copyFile(b *backup.Backup, domain, path, rel string, mtime time.Time) error {
	i, ok := b.Index.Lookup(domain, path)
	if !ok {
		return fmt.Errorf("%s/%s: %w", domain, path, fs.ErrNotExist)
	}
	src, err := b.OpenFile(b.Index.Entry(i))
	if err != nil {
		return err
	}
	defer src.Close()
	if err := d.write(rel, func(w io.Writer) error {
		_, err := io.Copy(w, io.NewSectionReader(src, 0, src.Size()))
		return err
	}); err != nil {
		return err
	}
	if !mtime.IsZero() {
		if err := d.root.Chtimes(filepath.FromSlash(rel), mtime, mtime); err != nil {
			return fmt.Errorf("export: %s: %w", filepath.Join(d.name, rel), err)
		}
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
