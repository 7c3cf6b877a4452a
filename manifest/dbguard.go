package manifest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A Manifest.db is a program as much as a file: a column can be GENERATED from an
// expression, a view can stand where the table should be, a DEFAULT can be computed for
// every row stored without it. A 45 KB database can so ask for gigabytes
// (printf('%.*c', 300000000, 'x') as relativePath, f0 || zeroblob(900000000) as file).
// Three guards keep what reading one costs in proportion to its size:
//
//   - checkFilesSchema refuses a Files table that is not the plain table Apple writes:
//     a view or virtual table, generated or hidden columns, computed defaults, and
//     triggers or views anywhere in the schema (Apple's has none).
//   - the query fetches `file` only up to MaxMBFileSize (length() reads a stored blob's
//     length without loading it); a longer one drops its row, counted as DropTooLong.
//   - limitConn lowers SQLITE_LIMIT_LENGTH on the reading connection, so that whatever
//     the two checks above miss cannot build a value bigger than sqliteLengthLimit:
//     the query then fails (tooBig says why) instead of exhausting memory. A stored
//     value over the limit (which takes a database that large) fails the same way.

// sqliteLengthLimit is the largest string or blob SQLite may build while reading: a
// `file` column of MaxMBFileSize with room to spare.
const sqliteLengthLimit = 2 * MaxMBFileSize

// queryer is what the reading code needs of a *sql.DB or *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// guardedConn takes one connection of db, lowers its length limit and checks the
// schema: every query of a read goes through it. Close it when done.
func guardedConn(ctx context.Context, db *sql.DB) (*sql.Conn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("Manifest.db: %w", err)
	}
	if err := limitConn(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("Manifest.db: %w", err)
	}
	if err := checkFilesSchema(ctx, conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("Manifest.db: %w", err)
	}
	return conn, nil
}

// limitConn sets SQLITE_LIMIT_LENGTH on conn to sqliteLengthLimit (never raising it).
func limitConn(conn *sql.Conn) error {
	cur, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, -1) // -1 only reads it
	if err != nil {
		return fmt.Errorf("bounding SQLite's value size: %w", err)
	}
	if cur > sqliteLengthLimit {
		if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, sqliteLengthLimit); err != nil {
			return fmt.Errorf("bounding SQLite's value size: %w", err)
		}
	}
	return nil
}

// filesColumns are the columns ReadDB reads.
var filesColumns = []string{"fileID", "domain", "relativePath", "flags", "file"}

// checkFilesSchema checks that Files is a plain table whose read columns are stored
// values, and that the schema holds no view or trigger. Its errors say what was found;
// the callers name the file.
func checkFilesSchema(ctx context.Context, q queryer) error {
	rows, err := q.QueryContext(ctx, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
		WHERE type IN ('view', 'trigger') OR name = 'Files' COLLATE NOCASE`)
	if err != nil {
		return notADatabase(err)
	}
	table := false
	for rows.Next() {
		var typ, name, tbl, text string
		if err := rows.Scan(&typ, &name, &tbl, &text); err != nil {
			rows.Close()
			return err
		}
		switch {
		case typ == "view" && strings.EqualFold(name, "Files"):
			rows.Close()
			return fmt.Errorf("Files is a view, not a table: a hostile or foreign Manifest.db")
		case typ == "view" || typ == "trigger":
			rows.Close()
			return fmt.Errorf("the schema has a %s %q (on %q), which no Manifest.db has: a hostile or foreign file", typ, name, tbl)
		case typ == "table" && name == "Files":
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), "CREATE VIRTUAL") {
				rows.Close()
				return fmt.Errorf("Files is a virtual table: a hostile or foreign Manifest.db")
			}
			table = true
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !table {
		return fmt.Errorf("no Files table: not a Manifest.db")
	}

	// table_xinfo lists generated columns too: hidden is 2 (virtual) or 3 (stored) for
	// them, 1 for the hidden columns of a virtual table.
	rows, err = q.QueryContext(ctx, `SELECT name, coalesce(dflt_value, ''), hidden FROM pragma_table_xinfo('Files')`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, dflt string
		var hidden int
		if err := rows.Scan(&name, &dflt, &hidden); err != nil {
			return err
		}
		read := false
		for _, c := range filesColumns {
			read = read || strings.EqualFold(name, c)
		}
		switch {
		case hidden == 2 || hidden == 3:
			return fmt.Errorf("column %q of Files is generated from an expression, which no Manifest.db has: a hostile file", name)
		case hidden != 0:
			return fmt.Errorf("column %q of Files is hidden, which no Manifest.db has: a hostile file", name)
		case read && dflt != "":
			// A DEFAULT stands in for the value on every row stored without the column,
			// and may be an expression computed for each of them.
			return fmt.Errorf("column %q of Files has a DEFAULT (%.40s), which no Manifest.db has: a hostile file", name, dflt)
		}
	}
	return rows.Err()
}

// tooBig explains SQLITE_TOOBIG, which limitConn makes the answer to an oversized value.
func tooBig(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_TOOBIG {
		return fmt.Errorf("a value is over %d bytes, more than any real Manifest.db holds (a hostile file): %w", sqliteLengthLimit, err)
	}
	return err
}

// clipLen bounds the names of a row kept for messages: no real one comes near it.
const clipLen = 4096

// clip shortens s to clipLen bytes, saying how long it was.
func clip(s string) string {
	if len(s) <= clipLen {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:clipLen], len(s))
}
