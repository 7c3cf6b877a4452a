package backup

// Overlay: the chosen files of one backup laid over another, for a selective restore
// (the protocol restores whole backups only). The target is a fresh backup the caller
// owns (a capture of the device just made); the source backup is only read.

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"iosbackup/manifest"
)

// ErrOverlayUnsupported: what Overlay cannot merge yet.
var ErrOverlayUnsupported = errors.New("selective restore supports plain (unencrypted) Manifest.db backups only")

// OverlayReport counts what Overlay changed in the target.
type OverlayReport struct {
	Replaced int // rows of the target replaced by the source's
	Added    int // rows of the source the target lacked
	Removed  int // rows of the target under the chosen paths the source lacks
}

// Match reports whether a pattern chooses DOMAIN/PATH: the pattern (path.Match syntax)
// matches the entry's key or one of its ancestors ("HomeDomain" chooses the whole
// domain, "AppDomain-com.example.*" every such app, "HomeDomain/Library/SMS" a folder).
func Match(patterns []string, domain, rel string) bool {
	key := domain
	if rel != "" {
		key = domain + "/" + rel
	}
	for _, p := range patterns {
		for k := key; ; k = path.Dir(k) {
			if ok, _ := path.Match(p, k); ok {
				return true
			}
			if !strings.Contains(k, "/") {
				break
			}
		}
	}
	return false
}

// Overlay replaces, in the backup folder dst (plain, Manifest.db, owned by the
// caller: it is modified in place), every entry the patterns choose with src's: rows
// and blobs of src's chosen entries are copied in, and dst's chosen entries that src
// lacks are removed, so the chosen paths equal src's and everything else stays dst's.
func Overlay(dst string, src *Backup, patterns []string) (*OverlayReport, error) {
	if len(patterns) == 0 {
		return nil, errors.New("overlay: no paths chosen")
	}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("overlay: pattern %q: %w", p, err)
		}
	}
	if src.Encrypted || src.Format != FormatDB {
		return nil, fmt.Errorf("%w: %s is %s%s", ErrOverlayUnsupported, src.Dir, map[bool]string{true: "encrypted ", false: ""}[src.Encrypted], src.Format)
	}
	target, err := Open(dst, Options{})
	if err != nil {
		return nil, fmt.Errorf("overlay: %w", err)
	}
	defer target.Close()
	if target.Encrypted || target.Format != FormatDB {
		return nil, fmt.Errorf("%w: the device's fresh backup %s is encrypted or not Manifest.db", ErrOverlayUnsupported, dst)
	}

	// Rows of the source, read from its manifest with SQLite, read-only.
	srcDB, err := sql.Open("sqlite", "file:"+filepath.Join(src.Dir, "Manifest.db")+"?mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("overlay: open %s/Manifest.db: %w", src.Dir, err)
	}
	defer srcDB.Close()
	type row struct {
		fileID, domain, rel string
		flags               int64
		file                []byte
	}
	rows, err := srcDB.Query("SELECT fileID, domain, relativePath, flags, file FROM Files")
	if err != nil {
		return nil, fmt.Errorf("overlay: read %s/Manifest.db: %w", src.Dir, err)
	}
	var chosen []row
	for rows.Next() {
		var r row
		var file []byte
		if err := rows.Scan(&r.fileID, &r.domain, &r.rel, &r.flags, &file); err != nil {
			rows.Close()
			return nil, fmt.Errorf("overlay: read %s/Manifest.db: %w", src.Dir, err)
		}
		if Match(patterns, r.domain, r.rel) {
			r.file = append([]byte(nil), file...)
			chosen = append(chosen, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overlay: read %s/Manifest.db: %w", src.Dir, err)
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("overlay: nothing in %s matches %s", src.Dir, strings.Join(patterns, " "))
	}
	// The source's entries by fileID, for their blobs (validated IDs, confined opens).
	srcEntries := map[string]*manifest.Entry{}
	for i := 0; i < src.Index.Len(); i++ {
		e := src.Index.Entry(int32(i))
		if e.Kind == manifest.KindFile && Match(patterns, e.Domain, e.Path) {
			srcEntries[e.ID.String()] = e
		}
	}

	dstDB, err := sql.Open("sqlite", "file:"+filepath.Join(dst, "Manifest.db"))
	if err != nil {
		return nil, fmt.Errorf("overlay: open %s/Manifest.db: %w", dst, err)
	}
	defer dstDB.Close()
	tx, err := dstDB.Begin()
	if err != nil {
		return nil, fmt.Errorf("overlay: %s/Manifest.db: %w", dst, err)
	}
	defer func() { _ = tx.Rollback() }()
	rep := &OverlayReport{}
	srcIDs := map[string]bool{}
	for _, r := range chosen {
		srcIDs[r.fileID] = true
	}
	// The target's chosen rows the source lacks go, blobs included.
	for i := 0; i < target.Index.Len(); i++ {
		e := target.Index.Entry(int32(i))
		if !Match(patterns, e.Domain, e.Path) || srcIDs[e.ID.String()] {
			continue
		}
		if _, err := tx.Exec("DELETE FROM Files WHERE domain = ? AND relativePath = ?", e.Domain, e.Path); err != nil {
			return nil, fmt.Errorf("overlay: %s/Manifest.db: %w", dst, err)
		}
		if e.Kind == manifest.KindFile {
			if err := os.Remove(target.BlobPath(e)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("overlay: %w", err)
			}
		}
		rep.Removed++
	}
	for _, r := range chosen {
		var n int
		if err := tx.QueryRow("SELECT count(*) FROM Files WHERE fileID = ?", r.fileID).Scan(&n); err != nil {
			return nil, fmt.Errorf("overlay: %s/Manifest.db: %w", dst, err)
		}
		if _, err := tx.Exec("INSERT OR REPLACE INTO Files (fileID, domain, relativePath, flags, file) VALUES (?, ?, ?, ?, ?)",
			r.fileID, r.domain, r.rel, r.flags, r.file); err != nil {
			return nil, fmt.Errorf("overlay: %s/Manifest.db: %w", dst, err)
		}
		if n > 0 {
			rep.Replaced++
		} else {
			rep.Added++
		}
		if e, ok := srcEntries[strings.ToLower(r.fileID)]; ok {
			if err := copyBlob(src, e, filepath.Join(dst, r.fileID[:2], r.fileID)); err != nil {
				return nil, fmt.Errorf("overlay: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("overlay: %s/Manifest.db: %w", dst, err)
	}
	return rep, nil
}

// copyBlob copies e's blob from src (through its confined opener) to dstPath.
func copyBlob(src *Backup, e *manifest.Entry, dstPath string) error {
	// Row and blob both come from src, so they stay as consistent as src had them.
	in, _, _, err := src.openBlob(e)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dstPath), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dstPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s/%s: %w", e.Domain, e.Path, err)
	}
	return out.Close()
}
