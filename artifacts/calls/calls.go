// Package calls reads a backup's call history: CallHistory.storedata (iOS 8+, the Core
// Data table ZCALLRECORD) or, on older backups, call_history.db (table call).
package calls

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/backup"
)

// Where the databases live.
const (
	Domain    = "HomeDomain"
	Path      = "Library/CallHistoryDB/CallHistory.storedata"
	OldDomain = "WirelessDomain"
	OldPath   = "Library/CallHistory/call_history.db"
)

// Call is one call.
type Call struct {
	Date     time.Time
	Duration time.Duration
	Outgoing bool
	Answered bool
	Address  string // the number or email
	Name     string // the name the phone showed, when it recorded one
	Service  string // Phone, FaceTime Video, FaceTime Audio, or the provider's id
	Country  string
}

// Result is what Read found.
type Result struct {
	Calls   []Call
	Skipped int
	Source  string // the database read, Domain/Path
}

// Read reads the calls in date order.
func Read(ctx context.Context, b *backup.Backup) (*Result, error) {
	db, err := b.OpenSQLite(Domain, Path)
	if err == nil {
		defer db.Close()
		return readCallRecords(ctx, db)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("calls: %w", err)
	}
	old, oerr := b.OpenSQLite(OldDomain, OldPath)
	if oerr != nil {
		if errors.Is(oerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("calls: neither %s/%s nor %s/%s in the backup: %w", Domain, Path, OldDomain, OldPath, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("calls: %w", oerr)
	}
	defer old.Close()
	return readOldCalls(ctx, old)
}

func readCallRecords(ctx context.Context, db *sql.DB) (*Result, error) {
	s, err := sqlitex.ReadSchema(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("calls: %s/%s: %w", Domain, Path, err)
	}
	if !s.Has("ZCALLRECORD", "ZDATE") {
		return nil, fmt.Errorf("calls: %s/%s: no ZCALLRECORD table", Domain, Path)
	}
	col := func(c string) string { return s.Col("ZCALLRECORD", "", c) }
	// ZADDRESS is a blob in some releases: CAST reads both.
	q := fmt.Sprintf(`SELECT ZDATE, %s, %s, %s, CAST(%s AS TEXT), %s, %s, %s, %s FROM ZCALLRECORD ORDER BY ZDATE, Z_PK`,
		col("ZDURATION"), col("ZORIGINATED"), col("ZANSWERED"), col("ZADDRESS"), col("ZNAME"),
		col("ZCALLTYPE"), col("ZSERVICE_PROVIDER"), col("ZISO_COUNTRY_CODE"))
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("calls: %s/%s: %w", Domain, Path, err)
	}
	defer rows.Close()
	res := &Result{Source: Domain + "/" + Path}
	for rows.Next() {
		var date, dur sql.NullFloat64
		var out, ans, typ sql.NullInt64
		var addr, name, prov, country sql.NullString
		if err := rows.Scan(&date, &dur, &out, &ans, &addr, &name, &typ, &prov, &country); err != nil || !date.Valid {
			res.Skipped++
			continue
		}
		c := Call{Date: sqlitex.CoreDataTime(date.Float64), Duration: time.Duration(dur.Float64 * float64(time.Second)),
			Outgoing: out.Int64 == 1, Answered: ans.Int64 == 1, Address: strings.TrimRight(addr.String, "\x00"),
			Name: name.String, Country: country.String, Service: service(typ.Int64, prov.String)}
		res.Calls = append(res.Calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("calls: %s/%s: %w", Domain, Path, err)
	}
	return res, nil
}

// service names a ZCALLTYPE.
func service(t int64, provider string) string {
	switch t {
	case 1:
		return "Phone"
	case 8:
		return "FaceTime Video"
	case 16:
		return "FaceTime Audio"
	}
	if provider != "" {
		return provider
	}
	return fmt.Sprintf("type %d", t)
}

// readOldCalls reads call_history.db (before iOS 8): Unix dates, flags bit 0 outgoing.
func readOldCalls(ctx context.Context, db *sql.DB) (*Result, error) {
	s, err := sqlitex.ReadSchema(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("calls: %s/%s: %w", OldDomain, OldPath, err)
	}
	if !s.Has("call", "date", "address") {
		return nil, fmt.Errorf("calls: %s/%s: no call table", OldDomain, OldPath)
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT date, %s, %s, address FROM call ORDER BY date, ROWID`,
		s.Col("call", "", "duration"), s.Col("call", "", "flags")))
	if err != nil {
		return nil, fmt.Errorf("calls: %s/%s: %w", OldDomain, OldPath, err)
	}
	defer rows.Close()
	res := &Result{Source: OldDomain + "/" + OldPath}
	for rows.Next() {
		var date, dur, flags sql.NullInt64
		var addr sql.NullString
		if err := rows.Scan(&date, &dur, &flags, &addr); err != nil {
			res.Skipped++
			continue
		}
		res.Calls = append(res.Calls, Call{Date: time.Unix(date.Int64, 0).UTC(), Duration: time.Duration(dur.Int64) * time.Second,
			Outgoing: flags.Int64&1 != 0, Answered: dur.Int64 > 0, Address: addr.String, Service: "Phone"})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("calls: %s/%s: %w", OldDomain, OldPath, err)
	}
	return res, nil
}
