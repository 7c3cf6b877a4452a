package gen

import (
	"database/sql"
	"fmt"
	"time"
)

// The address book (HomeDomain Library/AddressBook/AddressBook.sqlitedb and
// AddressBookImages.sqlitedb). Tables and columns from iLEAPP's
// scripts/artifacts/addressBook.py queries (ABPerson, ABMultiValue joined to
// ABMultiValueLabel, ABMultiValueEntry/ABMultiValueEntryKey for addresses) and the
// schema dumps in forensic write-ups; the core set has been the same from iOS 6 to 18,
// so every version gets it. Dates: CreationDate/ModificationDate integer seconds since
// 2001, Birthday a text holding seconds since 2001 (midnight GMT of the day).

// Contact is one ABPerson row with its multi-values, as a reader must show it.
type Contact struct {
	ID                                      int64
	First, Middle, Last, Prefix, Suffix     string
	Nickname, Organization, Department, Job string
	Note                                    string
	Birthday                                string // YYYY-MM-DD, "" when none
	Phones, Emails, URLs                    []Labeled
	Addresses                               []ContactAddress
	Photo                                   []byte // the full-size JPEG, nil when none
	FullName                                string // what FN must say
}

// Labeled is a multi-value: a label as the address book stores it and a value.
type Labeled struct{ Label, Value string }

// ContactAddress is a postal address multi-value.
type ContactAddress struct {
	Label                             string
	Street, City, State, ZIP, Country string
}

func people() []Contact {
	return []Contact{
		{ID: 1, First: "Alice", Last: "Martin", Organization: "Example Corp", Job: "Engineer", Birthday: "1988-04-12",
			Phones: []Labeled{{"_$!<Mobile>!$_", "+1 (555) 010-0123"}}, Emails: []Labeled{{"_$!<Work>!$_", "alice@example.com"}},
			URLs:      []Labeled{{"_$!<HomePage>!$_", "https://alice.example.com/"}},
			Addresses: []ContactAddress{{Label: "_$!<Home>!$_", Street: "1 Main Street", City: "Springfield", State: "IL", ZIP: "62701", Country: "United States"}},
			Note:      "Met at the conference 🎤", FullName: "Alice Martin"},
		{ID: 2, First: "Bob", Last: "Nguyen", Emails: []Labeled{{"_$!<Home>!$_", "bob@example.org"}}, FullName: "Bob Nguyen"},
		{ID: 3, First: "Chloé", Last: "Dubois", Organization: "Société Exemple", Department: "Ventes",
			Phones: []Labeled{{"_$!<Work>!$_", "+33 1 23 45 67 89"}, {"iPhone", "+33 6 12 34 56 78"}}, FullName: "Chloé Dubois"},
		{ID: 4, First: "דוד", Last: "כהן", Phones: []Labeled{{"_$!<Mobile>!$_", "+972 50-123-4567"}}, FullName: "דוד כהן"},
		// No name at all: readers must still give it a formatted name (its number).
		{ID: 5, Phones: []Labeled{{"_$!<Mobile>!$_", "+44 7700 900456"}}, FullName: "+44 7700 900456"},
		{ID: 6, Organization: "Pizza Roma", Phones: []Labeled{{"_$!<Main>!$_", "+1 555 0199"}}, FullName: "Pizza Roma"},
	}
}

func addressBookDatabase(seed int64, t0 int64) ([]byte, []byte, []Contact, error) {
	contacts := people()
	contacts[0].Photo = jpegImage(seed, 400)
	labels := map[string]int{}
	keys := map[string]int{}
	img, err := sqliteImage(func(tx *sql.Tx) error {
		if err := execAll(tx,
			"CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, Middle TEXT, FirstPhonetic TEXT, MiddlePhonetic TEXT, LastPhonetic TEXT, Organization TEXT, Department TEXT, Note TEXT, Kind INTEGER, Birthday TEXT, JobTitle TEXT, Nickname TEXT, Prefix TEXT, Suffix TEXT, FirstSort TEXT, LastSort TEXT, CreationDate INTEGER, ModificationDate INTEGER, CompositeNameFallback TEXT, ExternalIdentifier TEXT, ExternalModificationTag TEXT, ExternalUUID TEXT, StoreID INTEGER, DisplayName TEXT, ExternalRepresentation BLOB, FirstSortSection TEXT, LastSortSection TEXT, FirstSortLanguageIndex INTEGER DEFAULT 2147483647, LastSortLanguageIndex INTEGER DEFAULT 2147483647, PersonLink INTEGER DEFAULT -1, ImageURI TEXT, IsPreferredName INTEGER DEFAULT 1, guid TEXT DEFAULT (ab_generate_guid()), PhonemeData TEXT, AlternateBirthday TEXT, MapsData TEXT, FirstPronunciation TEXT, MiddlePronunciation TEXT, LastPronunciation TEXT, OrganizationPronunciation TEXT, PreviousFamily TEXT, Hashtag TEXT)",
			"CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, identifier INTEGER, label INTEGER, value TEXT, guid TEXT)",
			"CREATE TABLE ABMultiValueLabel (value TEXT, UNIQUE(value))",
			"CREATE TABLE ABMultiValueEntry (parent_id INTEGER, key INTEGER, value TEXT, UNIQUE(parent_id, key))",
			"CREATE TABLE ABMultiValueEntryKey (value TEXT, UNIQUE(value))",
		); err != nil {
			return err
		}
		label := func(l string) (int, error) {
			if i, ok := labels[l]; ok {
				return i, nil
			}
			labels[l] = len(labels) + 1
			_, err := tx.Exec("INSERT INTO ABMultiValueLabel (ROWID, value) VALUES (?, ?)", labels[l], l)
			return labels[l], err
		}
		key := func(k string) (int, error) {
			if i, ok := keys[k]; ok {
				return i, nil
			}
			keys[k] = len(keys) + 1
			_, err := tx.Exec("INSERT INTO ABMultiValueEntryKey (ROWID, value) VALUES (?, ?)", keys[k], k)
			return keys[k], err
		}
		uid := 0
		for _, c := range contacts {
			var bday any
			if c.Birthday != "" {
				d, _ := time.Parse("2006-01-02", c.Birthday)
				bday = fmt.Sprintf("%d", d.Unix()-appleEpoch)
			}
			if _, err := tx.Exec(`INSERT INTO ABPerson (ROWID, First, Last, Middle, Organization, Department, Note, Kind, Birthday, JobTitle, Nickname, Prefix, Suffix, CreationDate, ModificationDate, guid)
				VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, null(c.First), null(c.Last), null(c.Middle),
				null(c.Organization), null(c.Department), null(c.Note), bday, null(c.Job), null(c.Nickname),
				null(c.Prefix), null(c.Suffix), t0-appleEpoch-400*day, t0-appleEpoch-3*day,
				fmt.Sprintf("%08X-ABAB-4000-8000-%012X", uint32(seed), c.ID)); err != nil {
				return fmt.Errorf("insert person: %w", err)
			}
			add := func(prop int, vals []Labeled) error {
				for i, v := range vals {
					l, err := label(v.Label)
					if err != nil {
						return err
					}
					uid++
					if _, err := tx.Exec("INSERT INTO ABMultiValue (UID, record_id, property, identifier, label, value) VALUES (?, ?, ?, ?, ?, ?)",
						uid, c.ID, prop, i, l, v.Value); err != nil {
						return fmt.Errorf("insert multivalue: %w", err)
					}
				}
				return nil
			}
			if err := add(3, c.Phones); err != nil {
				return err
			}
			if err := add(4, c.Emails); err != nil {
				return err
			}
			if err := add(22, c.URLs); err != nil {
				return err
			}
			for i, a := range c.Addresses {
				l, err := label(a.Label)
				if err != nil {
					return err
				}
				uid++
				if _, err := tx.Exec("INSERT INTO ABMultiValue (UID, record_id, property, identifier, label, value) VALUES (?, ?, 5, ?, ?, NULL)", uid, c.ID, i, l); err != nil {
					return fmt.Errorf("insert address: %w", err)
				}
				for _, kv := range [][2]string{{"Street", a.Street}, {"City", a.City}, {"State", a.State}, {"ZIP", a.ZIP}, {"Country", a.Country}} {
					if kv[1] == "" {
						continue
					}
					k, err := key(kv[0])
					if err != nil {
						return err
					}
					if _, err := tx.Exec("INSERT INTO ABMultiValueEntry (parent_id, key, value) VALUES (?, ?, ?)", uid, k, kv[1]); err != nil {
						return fmt.Errorf("insert address part: %w", err)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("build AddressBook.sqlitedb: %w", err)
	}
	images, err := sqliteImage(func(tx *sql.Tx) error {
		if err := execAll(tx,
			"CREATE TABLE ABFullSizeImage (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, record_id INTEGER, crop_x INTEGER, crop_y INTEGER, crop_width INTEGER, crop_height INTEGER, data BLOB, UNIQUE(record_id))",
			"CREATE TABLE ABThumbnailImage (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, record_id INTEGER, format INTEGER, derived_from_format INTEGER, data BLOB, UNIQUE(record_id, format))",
		); err != nil {
			return err
		}
		for _, c := range contacts {
			if c.Photo == nil {
				continue
			}
			if _, err := tx.Exec("INSERT INTO ABFullSizeImage (record_id, crop_x, crop_y, crop_width, crop_height, data) VALUES (?, 0, 0, 96, 64, ?)", c.ID, c.Photo); err != nil {
				return fmt.Errorf("insert image: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("build AddressBookImages.sqlitedb: %w", err)
	}
	return img, images, contacts, nil
}

// null stores "" as NULL, as the address book does for unset fields.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
