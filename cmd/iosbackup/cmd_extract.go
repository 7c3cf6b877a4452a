package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"iosbackup/backup"
	"iosbackup/manifest"
)

func newExtractCmd() *cobra.Command {
	var (
		u         unlockFlags
		domain    string
		overwrite bool
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "extract BACKUP DEST [PATH-GLOB]",
		Short: "Copy files out of a backup into DEST/<Domain>/<path> (for machines without FUSE)",
		Long: `Copy files out of a backup into DEST/<Domain>/<path>, decrypting them, and keep their
modification times and modes. PATH-GLOB (path.Match syntax, '*' stays within one folder)
selects relative paths; a matching folder brings everything below it.

This is the one command that writes decrypted data to disk: only where you ask.`,
		Example: `  iosbackup extract 00008030 ./out --domain CameraRollDomain 'Media/DCIM'
  iosbackup extract ~/backup ./out --domain 'AppDomain-*'`,
		Args: rangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			glob := ""
			if len(args) == 3 {
				glob = args[2]
				if _, err := path.Match(glob, ""); err != nil {
					return usageError{fmt.Errorf("PATH-GLOB %q: %w", glob, err)}
				}
			}
			if domain != "" {
				if _, err := path.Match(domain, ""); err != nil {
					return usageError{fmt.Errorf("--domain %q: %w", domain, err)}
				}
			}
			b, err := openBackup(args[0], &u)
			if err != nil {
				return err
			}
			x := extractor{b: b, domainGlob: domain, pathGlob: glob, overwrite: overwrite}
			if err := x.run(args[1]); err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(os.Stderr, "extracted %d files (%s), %d folders, %d symlinks into %s\n",
					x.files, humanBytes(x.bytes), x.dirs, x.links, args[1])
			}
			if x.failed > 0 {
				return fmt.Errorf("%d files could not be extracted (see above)", x.failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&domain, "domain", "", "only domains matching `GLOB` (e.g. HomeDomain, 'AppDomain-*')")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace files that already exist in DEST")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no summary line")
	u.register(cmd)
	return cmd
}

type extractor struct {
	b                    *backup.Backup
	domainGlob, pathGlob string
	overwrite            bool
	root                 *os.Root

	files, dirs, links, failed int
	bytes                      int64
	dirTimes                   []int32 // folders whose mode and times are set last
}

func (x *extractor) run(dest string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	// os.Root confines every write below dest, whatever symlinks DEST holds or the
	// backup creates: a hostile backup cannot write outside it.
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer root.Close()
	x.root = root
	ix := x.b.Index
	for _, d := range ix.Domains() {
		if x.domainGlob != "" {
			if ok, _ := path.Match(x.domainGlob, d); !ok {
				continue
			}
		}
		r, _ := ix.DomainRoot(d)
		if err := x.walk(r, x.pathGlob == ""); err != nil {
			return err
		}
	}
	// Folders last, deepest first: writing children changes a folder's mtime, and a
	// read-only folder mode would stop its children being written.
	for i := len(x.dirTimes) - 1; i >= 0; i-- {
		e := ix.Entry(x.dirTimes[i])
		name := filepath.Join(e.Domain, filepath.FromSlash(e.Path))
		if err := root.Chmod(name, fs.FileMode(e.Perm())|0o700); err != nil {
			warnf("%s: %v", name, err)
		}
		t := time.Unix(e.MTime, 0)
		if err := root.Chtimes(name, t, t); err != nil {
			warnf("%s: %v", name, err)
		}
	}
	return nil
}

// walk extracts entry i and below. selected is true once an ancestor matched the glob.
func (x *extractor) walk(i int32, selected bool) error {
	ix := x.b.Index
	e := ix.Entry(i)
	if !selected && e.Path != "" {
		selected, _ = path.Match(x.pathGlob, e.Path)
	}
	name := filepath.Join(e.Domain, filepath.FromSlash(e.Path))
	switch e.Kind {
	case manifest.KindDir:
		if selected {
			if err := x.root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("extract %s: %w", name, err)
			}
			x.dirs++
			x.dirTimes = append(x.dirTimes, i)
		}
		for _, c := range ix.Children(i) {
			if err := x.walk(c, selected); err != nil {
				return err
			}
		}
	case manifest.KindSymlink:
		if !selected {
			return nil
		}
		if x.overwrite {
			_ = x.root.Remove(name)
		}
		if err := x.root.Symlink(e.Target(), name); err != nil {
			warnf("%s: %v", name, err)
			x.failed++
			return nil
		}
		x.links++
	case manifest.KindFile:
		if !selected {
			return nil
		}
		if err := x.extractFile(e, name); err != nil {
			warnf("%v", err)
			x.failed++
		}
	}
	return nil
}

func (x *extractor) extractFile(e *manifest.Entry, name string) error {
	if err := x.root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	src, err := x.b.OpenFile(e)
	if err != nil {
		return err
	}
	defer src.Close()
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if x.overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	dst, err := x.root.OpenFile(name, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: already exists in the destination (use --overwrite)", name)
	}
	if err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	n, err := io.Copy(dst, io.NewSectionReader(src, 0, src.Size()))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = x.root.Remove(name) // never leave a truncated file that looks complete
		return fmt.Errorf("extract %s: %w", name, err)
	}
	// The mode is applied after the data so a 0400 file can still be written first.
	if err := x.root.Chmod(name, fs.FileMode(e.Perm())); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	t := time.Unix(e.MTime, 0)
	if err := x.root.Chtimes(name, t, t); err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	x.files++
	x.bytes += n
	return nil
}
