package devicesim

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"iosbackup/manifest"
)

// The backup the device serves after a restore. A full restore serves the restored
// backup as received. A partial one (system files or settings kept, items not
// removed) must serve what the device now holds: the restored backup, less the files
// the options did not restore, plus the device's own files it kept, taken from the
// backup it served before. That is done for plain Manifest.db backups on both sides,
// by editing the received Manifest.db; for others the restored backup is served as
// received, and Contents alone shows the difference.

// composeImage edits the restored backup in dir so that it holds merged: rows and
// blobs of files merged does not take from the restore are removed, and the rows and
// blobs of the device's kept files (with their parent folders) are copied from prev.
// It reports whether it could (both plain Manifest.db backups).
func composeImage(dir, prev string, merged, restored map[string]DeviceFile) (bool, error) {
	if !plainDB(dir) || !plainDB(prev) {
		return false, nil
	}
	var drop, keep []DeviceFile
	for k, f := range restored {
		if m, ok := merged[k]; !ok || m != f {
			drop = append(drop, f)
		}
	}
	for k, f := range merged {
		if r, ok := restored[k]; !ok || r != f {
			keep = append(keep, f)
		}
	}
	if len(drop) == 0 && len(keep) == 0 {
		return true, nil
	}
	// The previous backup's manifest is read from a copy: SQLite never touches it.
	prevDB, err := os.CreateTemp(filepath.Dir(dir), "prev-manifest-*.db")
	if err != nil {
		return false, err
	}
	defer os.Remove(prevDB.Name())
	if err := copyFile(filepath.Join(prev, "Manifest.db"), prevDB); err != nil {
		return false, err
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "Manifest.db"))
	if err != nil {
		return false, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // ATTACH belongs to one connection
	if _, err := db.Exec("ATTACH DATABASE ? AS prev", prevDB.Name()); err != nil {
		return false, fmt.Errorf("devicesim: attach the previous manifest: %w", err)
	}
	tx, err := db.Begin()
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	for _, f := range drop {
		id := manifest.ComputeFileID(f.Domain, f.Path).String()
		if _, err := tx.Exec("DELETE FROM main.Files WHERE fileID = ?", id); err != nil {
			return false, err
		}
		if err := os.Remove(filepath.Join(dir, id[:2], id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, err
		}
	}
	for _, f := range keep {
		ids := []string{manifest.ComputeFileID(f.Domain, f.Path).String()}
		for p := path.Dir(f.Path); p != "." && p != "/"; p = path.Dir(p) {
			ids = append(ids, manifest.ComputeFileID(f.Domain, p).String())
		}
		for _, id := range ids {
			if _, err := tx.Exec("INSERT OR REPLACE INTO main.Files SELECT * FROM prev.Files WHERE fileID = ?", id); err != nil {
				return false, err
			}
		}
		id := ids[0]
		if err := os.MkdirAll(filepath.Join(dir, id[:2]), 0o755); err != nil {
			return false, err
		}
		out, err := os.Create(filepath.Join(dir, id[:2], id))
		if err != nil {
			return false, err
		}
		err = copyFile(filepath.Join(prev, id[:2], id), out)
		if err != nil {
			return false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}

// plainDB reports whether dir is an unencrypted Manifest.db backup.
func plainDB(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "Manifest.db")); err != nil {
		return false
	}
	mp, err := readManifestPlist(dir)
	return err == nil && !mp.IsEncrypted
}

// copyFile copies src into dst and closes dst.
func copyFile(src string, dst *os.File) error {
	in, err := os.Open(src)
	if err != nil {
		dst.Close()
		return err
	}
	defer in.Close()
	if _, err := io.Copy(dst, in); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// readManifestPlist reads dir's Manifest.plist through the guarded parser.
func readManifestPlist(dir string) (*manifest.ManifestPlist, error) {
	data, err := os.ReadFile(filepath.Join(dir, "Manifest.plist"))
	if err != nil {
		return nil, err
	}
	mp, err := manifest.ParseManifestPlist(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "Manifest.plist"), err)
	}
	return mp, nil
}
