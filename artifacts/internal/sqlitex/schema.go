// Package sqlitex holds what every artifact reader needs from SQLite: the schema as it
// is in the file (tables and their columns), read at run time, and Apple's dates.
package sqlitex

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Schema maps each table name to the set of its column names, as the database has
// them: iOS adds and renames columns between releases, so readers ask instead of
// assuming one version's schema.
type Schema map[string]map[string]bool

// ReadSchema lists the tables of db and their columns (PRAGMA table_info).
func ReadSchema(ctx context.Context, db *sql.DB) (Schema, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	s := Schema{}
	for _, t := range tables {
		cols, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", t, err)
		}
		set := map[string]bool{}
		for cols.Next() {
			var n string
			if err := cols.Scan(&n); err != nil {
				cols.Close()
				return nil, fmt.Errorf("columns of %s: %w", t, err)
			}
			set[n] = true
		}
		cols.Close()
		if err := cols.Err(); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", t, err)
		}
		s[t] = set
	}
	return s, nil
}

// Has reports whether table exists with every one of cols.
func (s Schema) Has(table string, cols ...string) bool {
	t, ok := s[table]
	if !ok {
		return false
	}
	for _, c := range cols {
		if !t[c] {
			return false
		}
	}
	return true
}

// Col returns alias.col when table has the column, else "NULL": the query then reads
// NULL where an older iOS has no such column.
func (s Schema) Col(table, alias, col string) string {
	if s[table][col] {
		if alias == "" {
			return quote(col)
		}
		return alias + "." + quote(col)
	}
	return "NULL"
}

func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// appleEpoch is 2001-01-01T00:00:00Z.
var appleEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// AppleTime converts an sms.db-style date: seconds since 2001 before iOS 11,
// nanoseconds since (values beyond 1e15 cannot be seconds: that is 31 million years).
// Zero means "none" and gives the zero time.
func AppleTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	if v > 1e15 || v < -1e15 {
		return appleEpoch.Add(time.Duration(v)).UTC()
	}
	return appleEpoch.Add(time.Duration(v) * time.Second).UTC()
}

// CoreDataTime converts a Core Data timestamp (REAL seconds since 2001).
func CoreDataTime(v float64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return appleEpoch.Add(time.Duration(v * float64(time.Second))).UTC()
}
