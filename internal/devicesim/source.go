package devicesim

import (
	"crypto/sha1"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"howett.net/plist"
	_ "modernc.org/sqlite" // Manifest.db rows, for incremental backups

	"iosbackup/manifest"
)

// srcFile is one file of the backup folder the device holds.
type srcFile struct {
	rel  string // slash-separated, relative to the folder
	abs  string
	size int64
	mod  time.Time
}

// source is a snapshot of the folder the device backs up.
type source struct {
	files  []srcFile // what a full backup uploads, Status.plist and Info.plist excluded
	byRel  map[string]*srcFile
	status []byte // the Status.plist to upload: the source's when finished, else made up
	// rows maps fileID to a hash of its Manifest.db row (flags and file blob); nil
	// when the folder has no readable Manifest.db (encrypted, or Manifest.mbdb).
	rows map[string][20]byte
	// devicePaths maps fileID to the file's path on the device, which a device sends
	// with every file it uploads; empty when the Manifest.db cannot be read.
	devicePaths map[string]string
}

func loadSource(dir string) (*source, error) {
	src := &source{byRel: map[string]*srcFile{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "Info.plist" || rel == "Status.plist" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		src.files = append(src.files, srcFile{rel: rel, abs: p, size: fi.Size(), mod: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("devicesim: read source %s: %w", dir, err)
	}
	// Blobs first, manifests last: a device writes its manifest after the files.
	sort.Slice(src.files, func(i, j int) bool {
		bi, bj := isBlob(src.files[i].rel), isBlob(src.files[j].rel)
		if bi != bj {
			return bi
		}
		return src.files[i].rel < src.files[j].rel
	})
	for i := range src.files {
		src.byRel[src.files[i].rel] = &src.files[i]
	}
	if data, err := os.ReadFile(filepath.Join(dir, "Status.plist")); err == nil && snapshotFinished(data) {
		src.status = data
	} else {
		src.status = madeUpStatus()
	}
	if _, err := os.Stat(filepath.Join(dir, "Manifest.db")); err == nil {
		src.rows, _ = manifestRows(filepath.Join(dir, "Manifest.db"))
		src.devicePaths, _ = manifestDevicePaths(filepath.Join(dir, "Manifest.db"))
	}
	return src, nil
}

// isBlob reports whether rel names a file's contents: xx/<fileID> (iOS 10+) or a bare
// <fileID> (iOS 5-9).
func isBlob(rel string) bool {
	dir, name := path.Split(rel)
	if !isHex(name, 40) {
		return false
	}
	return dir == "" || dir == name[:2]+"/"
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// openManifest opens a plain Manifest.db read-only.
func openManifest(p string) (*sql.DB, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro&immutable=1"}
	return sql.Open("sqlite", u.String())
}

// manifestDevicePaths maps each fileID of a plain Manifest.db to its device path: the
// domain's folder (manifest.DevicePath: container domains named by their ID, where a
// real device has a UUID) and the relative path.
func manifestDevicePaths(p string) (map[string]string, error) {
	db, err := openManifest(p)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT fileID, domain, relativePath FROM Files")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, domain, rel sql.NullString
		if err := rows.Scan(&id, &domain, &rel); err != nil {
			return nil, err
		}
		if root, ok := manifest.DevicePath(domain.String); ok && rel.String != "" {
			out[strings.ToLower(id.String)] = root + "/" + rel.String
		}
	}
	return out, rows.Err()
}

// manifestRows reads Files(fileID, flags, file) from a plain Manifest.db.
func manifestRows(p string) (map[string][20]byte, error) {
	db, err := openManifest(p)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT fileID, flags, file FROM Files")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][20]byte{}
	for rows.Next() {
		var id string
		var flags sql.NullInt64
		var file []byte
		if err := rows.Scan(&id, &flags, &file); err != nil {
			return nil, err
		}
		h := sha1.New()
		fmt.Fprintf(h, "%d:", flags.Int64)
		h.Write(file)
		var sum [20]byte
		copy(sum[:], h.Sum(nil))
		out[strings.ToLower(id)] = sum
	}
	return out, rows.Err()
}

func snapshotFinished(status []byte) bool {
	var s struct{ SnapshotState string }
	if _, err := plist.Unmarshal(status, &s); err != nil {
		return false
	}
	return s.SnapshotState == "finished"
}

// madeUpStatus is the Status.plist a device writes at the end of a backup.
func madeUpStatus() []byte {
	data, _ := plist.Marshal(map[string]any{
		"BackupState": "new", "Date": time.Now().UTC(), "IsFullBackup": false,
		"SnapshotState": "finished", "UUID": newUUID(), "Version": "3.3",
	}, plist.BinaryFormat)
	return data
}

// sourceEncrypted reads IsEncrypted from the folder's Manifest.plist.
func sourceEncrypted(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "Manifest.plist"))
	if err != nil {
		return false
	}
	var m struct{ IsEncrypted bool }
	if _, err := plist.Unmarshal(data, &m); err != nil {
		return false
	}
	return m.IsEncrypted
}

// dirSize adds up the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
