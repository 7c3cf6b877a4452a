package capture

import (
	"database/sql"
	"path"
	"path/filepath"

	"iosbackup/manifest"
)

// previousNames finds DOMAIN/PATH by fileID in the previous backup's Manifest.db, for
// a file whose device path does not give it away: a real device names app containers
// by a UUID the manifest does not record, but a file backed up before keeps its
// fileID. The database is opened at the first such file, read-only, and only when
// it is a plain (unencrypted) Manifest.db in the published backup folder.
type previousNames struct {
	st     *store
	db     *sql.DB
	stmt   *sql.Stmt
	opened bool
}

func newPreviousNames(st *store) *previousNames { return &previousNames{st: st} }

// lookup returns "DOMAIN/PATH" for fileID, false when the previous backup has none.
func (p *previousNames) lookup(fileID string) (string, bool) {
	if p == nil || !p.open() {
		return "", false
	}
	var domain, rel sql.NullString
	if err := p.stmt.QueryRow(fileID).Scan(&domain, &rel); err != nil || domain.String == "" || rel.String == "" {
		return "", false
	}
	return domain.String + "/" + rel.String, true
}

func (p *previousNames) open() bool {
	if p.opened {
		return p.stmt != nil
	}
	p.opened = true
	rel := path.Join(p.st.udid, "Manifest.db")
	// Never through a link: the folder is the device's to write, not to point elsewhere.
	if fi, err := p.st.lstatNoLink(rel); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	db, err := manifest.OpenDBFile(filepath.Join(p.st.rootDir, filepath.FromSlash(rel)))
	if err != nil {
		return false // encrypted, or not a database: names stay device paths
	}
	stmt, err := db.Prepare("SELECT domain, relativePath FROM Files WHERE fileID = ?")
	if err != nil {
		db.Close()
		return false
	}
	p.db, p.stmt = db, stmt
	return true
}

func (p *previousNames) close() {
	if p == nil || p.db == nil {
		return
	}
	p.stmt.Close()
	p.db.Close()
	p.db, p.stmt = nil, nil
}
