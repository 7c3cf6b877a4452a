// Package contacts reads the address book of a backup (HomeDomain
// Library/AddressBook/AddressBook.sqlitedb, photos from AddressBookImages.sqlitedb)
// into plain records, and writes them as vCard 4.0 (RFC 6350).
package contacts

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/backup"
)

// Where the databases live in a backup.
const (
	Domain     = "HomeDomain"
	Path       = "Library/AddressBook/AddressBook.sqlitedb"
	ImagesPath = "Library/AddressBook/AddressBookImages.sqlitedb"
)

// ABMultiValue property numbers.
const (
	propPhone   = 3
	propEmail   = 4
	propAddress = 5
	propURL     = 22
)

// Contact is one person of the address book.
type Contact struct {
	ID                                  int64
	First, Middle, Last, Prefix, Suffix string
	Nickname, Organization, Department  string
	JobTitle, Note                      string
	Birthday                            time.Time // a date (UTC midnight); zero when none
	Created, Modified                   time.Time
	Phones, Emails, URLs                []Value
	Addresses                           []Address
	Photo                               []byte // JPEG or PNG, nil when none
}

// Value is a labelled multi-value; Label is cleaned ("_$!<Mobile>!$_" -> "Mobile").
type Value struct{ Label, Value string }

// Address is a postal address.
type Address struct {
	Label                             string
	Street, City, State, ZIP, Country string
}

// FullName is the name to show: the name parts, else the organization, else the
// first phone or email.
func (c *Contact) FullName() string {
	var parts []string
	for _, p := range []string{c.Prefix, c.First, c.Middle, c.Last, c.Suffix} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	if c.Organization != "" {
		return c.Organization
	}
	if len(c.Phones) > 0 {
		return c.Phones[0].Value
	}
	if len(c.Emails) > 0 {
		return c.Emails[0].Value
	}
	return "Unnamed contact " + strconv.FormatInt(c.ID, 10)
}

// Result is what Read found.
type Result struct {
	Contacts []Contact
	Skipped  int // rows that could not be read
	// PhotoErr says why photos could not be read (the contacts are there without).
	PhotoErr error
}

// Read reads every contact with its phones, emails, URLs, addresses and photo.
func Read(ctx context.Context, b *backup.Backup) (*Result, error) {
	db, err := b.OpenSQLite(Domain, Path)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	defer db.Close()
	s, err := sqlitex.ReadSchema(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("contacts: %s/%s: %w", Domain, Path, err)
	}
	if !s.Has("ABPerson", "ROWID") {
		return nil, fmt.Errorf("contacts: %s/%s: no ABPerson table", Domain, Path)
	}
	res := &Result{}
	col := func(c string) string { return s.Col("ABPerson", "p", c) }
	q := fmt.Sprintf(`SELECT p.ROWID, %s FROM ABPerson p ORDER BY p.ROWID`, strings.Join([]string{
		col("First"), col("Middle"), col("Last"), col("Prefix"), col("Suffix"), col("Nickname"),
		col("Organization"), col("Department"), col("JobTitle"), col("Note"), col("Birthday"),
		col("CreationDate"), col("ModificationDate")}, ", "))
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("contacts: %s/%s: %w", Domain, Path, err)
	}
	index := map[int64]int{}
	for rows.Next() {
		var c Contact
		var f [10]sql.NullString
		var bday sql.NullString
		var created, modified sql.NullFloat64
		if err := rows.Scan(&c.ID, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &bday, &created, &modified); err != nil {
			res.Skipped++
			continue
		}
		c.First, c.Middle, c.Last, c.Prefix, c.Suffix = f[0].String, f[1].String, f[2].String, f[3].String, f[4].String
		c.Nickname, c.Organization, c.Department, c.JobTitle, c.Note = f[5].String, f[6].String, f[7].String, f[8].String, f[9].String
		if v, err := strconv.ParseFloat(strings.TrimSpace(bday.String), 64); err == nil && bday.Valid {
			t := sqlitex.CoreDataTime(v)
			c.Birthday = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		c.Created, c.Modified = sqlitex.CoreDataTime(created.Float64), sqlitex.CoreDataTime(modified.Float64)
		index[c.ID] = len(res.Contacts)
		res.Contacts = append(res.Contacts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("contacts: %s/%s: %w", Domain, Path, err)
	}
	if err := readMultiValues(ctx, db, s, res, index); err != nil {
		return nil, err
	}
	res.PhotoErr = readPhotos(ctx, b, res, index)
	return res, nil
}

// cleanLabel turns "_$!<Mobile>!$_" into "Mobile"; custom labels stay as typed.
func cleanLabel(l string) string {
	if strings.HasPrefix(l, "_$!<") && strings.HasSuffix(l, ">!$_") {
		return l[4 : len(l)-4]
	}
	return l
}

func readMultiValues(ctx context.Context, db *sql.DB, s sqlitex.Schema, res *Result, index map[int64]int) error {
	if !s.Has("ABMultiValue", "UID", "record_id", "property", "value") {
		return nil
	}
	label := "NULL"
	join := ""
	if s.Has("ABMultiValueLabel", "value") && s["ABMultiValue"]["label"] {
		label, join = "l.value", "LEFT JOIN ABMultiValueLabel l ON l.ROWID = m.label"
	}
	rows, err := db.QueryContext(ctx, `SELECT m.UID, m.record_id, m.property, `+label+`, m.value FROM ABMultiValue m `+join+` ORDER BY m.record_id, m.property, m.UID`)
	if err != nil {
		return fmt.Errorf("contacts: %s/%s: multi-values: %w", Domain, Path, err)
	}
	addrs := map[int64]*Address{}
	var order []int64
	owner := map[int64]int{}
	for rows.Next() {
		var uid, rec, prop int64
		var l, v sql.NullString
		if err := rows.Scan(&uid, &rec, &prop, &l, &v); err != nil {
			res.Skipped++
			continue
		}
		i, ok := index[rec]
		if !ok {
			continue
		}
		c := &res.Contacts[i]
		val := Value{Label: cleanLabel(l.String), Value: v.String}
		switch prop {
		case propPhone:
			c.Phones = append(c.Phones, val)
		case propEmail:
			c.Emails = append(c.Emails, val)
		case propURL:
			c.URLs = append(c.URLs, val)
		case propAddress:
			addrs[uid] = &Address{Label: val.Label}
			order = append(order, uid)
			owner[uid] = i
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("contacts: %s/%s: multi-values: %w", Domain, Path, err)
	}
	if len(addrs) > 0 && s.Has("ABMultiValueEntry", "parent_id", "key", "value") && s.Has("ABMultiValueEntryKey", "value") {
		rows, err := db.QueryContext(ctx, `SELECT e.parent_id, k.value, e.value FROM ABMultiValueEntry e JOIN ABMultiValueEntryKey k ON k.ROWID = e.key`)
		if err != nil {
			return fmt.Errorf("contacts: %s/%s: addresses: %w", Domain, Path, err)
		}
		for rows.Next() {
			var parent int64
			var k, v sql.NullString
			if err := rows.Scan(&parent, &k, &v); err != nil {
				res.Skipped++
				continue
			}
			a := addrs[parent]
			if a == nil {
				continue
			}
			switch k.String {
			case "Street":
				a.Street = v.String
			case "City":
				a.City = v.String
			case "State":
				a.State = v.String
			case "ZIP":
				a.ZIP = v.String
			case "Country":
				a.Country = v.String
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("contacts: %s/%s: addresses: %w", Domain, Path, err)
		}
	}
	for _, uid := range order {
		c := &res.Contacts[owner[uid]]
		c.Addresses = append(c.Addresses, *addrs[uid])
	}
	return nil
}

// readPhotos takes each contact's full-size image, else its thumbnail, when it is a
// JPEG or PNG (newer thumbnails are raw pixels, of no use outside the phone).
func readPhotos(ctx context.Context, b *backup.Backup, res *Result, index map[int64]int) error {
	db, err := b.OpenSQLite(Domain, ImagesPath)
	if err != nil {
		return fmt.Errorf("contact photos: %w", err)
	}
	defer db.Close()
	s, err := sqlitex.ReadSchema(ctx, db)
	if err != nil {
		return fmt.Errorf("contact photos: %s/%s: %w", Domain, ImagesPath, err)
	}
	for _, table := range []string{"ABFullSizeImage", "ABThumbnailImage"} {
		if !s.Has(table, "record_id", "data") {
			continue
		}
		rows, err := db.QueryContext(ctx, `SELECT record_id, data FROM `+table+` ORDER BY ROWID`)
		if err != nil {
			return fmt.Errorf("contact photos: %s/%s: %w", Domain, ImagesPath, err)
		}
		for rows.Next() {
			var rec int64
			var data []byte
			if err := rows.Scan(&rec, &data); err != nil {
				res.Skipped++
				continue
			}
			if i, ok := index[rec]; ok && res.Contacts[i].Photo == nil && imageType(data) != "" {
				res.Contacts[i].Photo = data
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("contact photos: %s/%s: %w", Domain, ImagesPath, err)
		}
	}
	return nil
}

// imageType is the MIME type of a JPEG or PNG, else "".
func imageType(b []byte) string {
	switch {
	case len(b) > 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return "image/jpeg"
	case len(b) > 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	}
	return ""
}

// Names returns a function that resolves a handle (phone number or email) to the
// full name of the contact that has it, "" when none does. Phone numbers match on
// their last nine digits, so "+1 (555) 010-0123" matches "+15550100123".
func (r *Result) Names() func(string) string {
	byKey := map[string]string{}
	for i := range r.Contacts {
		c := &r.Contacts[i]
		for _, v := range append(append([]Value{}, c.Phones...), c.Emails...) {
			if k := handleKey(v.Value); k != "" {
				if _, taken := byKey[k]; !taken {
					byKey[k] = c.FullName()
				}
			}
		}
	}
	return func(h string) string { return byKey[handleKey(h)] }
}

// handleKey is what two spellings of one handle share: a lower-cased email, or the
// last nine digits of a phone number (all of them when it has fewer than seven).
func handleKey(h string) string {
	h = strings.TrimSpace(h)
	if strings.Contains(h, "@") {
		return "e:" + strings.ToLower(h)
	}
	var digits []byte
	for i := 0; i < len(h); i++ {
		if h[i] >= '0' && h[i] <= '9' {
			digits = append(digits, h[i])
		}
	}
	switch {
	case len(digits) >= 9:
		return "p:" + string(digits[len(digits)-9:])
	case len(digits) >= 3:
		return "p:" + string(digits)
	}
	return ""
}
