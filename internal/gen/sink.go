package gen

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"

	"iosbackup/manifest"
)

// dbSink writes Manifest.db: the real schema, every row in one transaction through
// one prepared statement, the secondary indexes built at the end (faster than
// maintaining them row by row, and the same file content as far as readers go).
type dbSink struct {
	path string
	db   *sql.DB
	conn *sql.Conn
	tx   *sql.Tx
	ins  *sql.Stmt
}

func newDBSink(path string) (*dbSink, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("gen: %s already exists", path)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, fmt.Errorf("gen: open %s: %w", path, err)
	}
	s := &dbSink{path: path, db: db}
	if err := s.init(); err != nil {
		s.abort()
		return nil, err
	}
	return s, nil
}

func (s *dbSink) init() error {
	ctx := context.Background()
	var err error
	if s.conn, err = s.db.Conn(ctx); err != nil {
		return fmt.Errorf("gen: %s: %w", s.path, err)
	}
	// A generator's output is rebuilt, not repaired, after a crash: no journal and no
	// fsync. WAL is avoided so that no -wal/-shm files are left beside the manifest.
	for _, q := range []string{
		"PRAGMA journal_mode = OFF",
		"PRAGMA synchronous = OFF",
		"PRAGMA locking_mode = EXCLUSIVE",
		"PRAGMA cache_size = -65536",
		"CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB)",
		"CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB)",
	} {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("gen: %s: %s: %w", s.path, q, err)
		}
	}
	if s.tx, err = s.conn.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("gen: %s: begin: %w", s.path, err)
	}
	s.ins, err = s.tx.Prepare("INSERT INTO Files (fileID, domain, relativePath, flags, file) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("gen: %s: prepare insert: %w", s.path, err)
	}
	return nil
}

// flagsOf is the Files.flags column: 1 file, 2 directory, 4 symlink.
func flagsOf(k manifest.Kind) int {
	switch k {
	case manifest.KindDir:
		return 2
	case manifest.KindSymlink:
		return 4
	}
	return 1
}

func (s *dbSink) add(e *TruthEntry, rec []byte) error {
	if _, err := s.ins.Exec(e.ID().String(), e.Domain, e.Path, flagsOf(e.Kind), rec); err != nil {
		return fmt.Errorf("gen: %s: insert %s: %w", s.path, e.Key(), err)
	}
	return nil
}

func (s *dbSink) finish() error {
	if err := s.ins.Close(); err != nil {
		s.abort()
		return fmt.Errorf("gen: %s: %w", s.path, err)
	}
	for _, q := range []string{
		"CREATE INDEX FilesDomainIdx ON Files(domain)",
		"CREATE INDEX FilesRelativePathIdx ON Files(relativePath)",
		"CREATE INDEX FilesFlagsIdx ON Files(flags)",
	} {
		if _, err := s.tx.Exec(q); err != nil {
			s.abort()
			return fmt.Errorf("gen: %s: %s: %w", s.path, q, err)
		}
	}
	if err := s.tx.Commit(); err != nil {
		s.abort()
		return fmt.Errorf("gen: %s: commit: %w", s.path, err)
	}
	s.tx = nil
	if err := s.conn.Close(); err != nil {
		s.db.Close()
		return fmt.Errorf("gen: %s: %w", s.path, err)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("gen: close %s: %w", s.path, err)
	}
	return nil
}

func (s *dbSink) abort() {
	if s.tx != nil {
		s.tx.Rollback()
	}
	if s.conn != nil {
		s.conn.Close()
	}
	s.db.Close()
}

// mbdbSink writes Manifest.mbdb: the header, then the records back to back.
type mbdbSink struct {
	path string
	f    *os.File
	bw   *bufio.Writer
}

func newMBDBSink(path string) (*mbdbSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("gen: create %s: %w", path, err)
	}
	s := &mbdbSink{path: path, f: f, bw: bufio.NewWriterSize(f, 1<<20)}
	if _, err := s.bw.Write(mbdbHeader); err != nil {
		f.Close()
		return nil, fmt.Errorf("gen: write %s: %w", path, err)
	}
	return s, nil
}

func (s *mbdbSink) add(e *TruthEntry, rec []byte) error {
	if _, err := s.bw.Write(rec); err != nil {
		return fmt.Errorf("gen: write %s: %w", s.path, err)
	}
	return nil
}

func (s *mbdbSink) finish() error {
	err := s.bw.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gen: write %s: %w", s.path, err)
	}
	return nil
}

func (s *mbdbSink) abort() { s.f.Close() }
