package gen

import (
	"database/sql"
	"fmt"
)

// The call history (HomeDomain Library/CallHistoryDB/CallHistory.storedata, iOS 8+): a
// Core Data store whose ZCALLRECORD columns come from iLEAPP's
// scripts/artifacts/callHistory.py and mvt's src/mvt/ios/modules/mixed/calls.py (ZDATE
// seconds since 2001 as REAL, ZDURATION seconds, ZORIGINATED 1 for outgoing, ZANSWERED,
// ZCALLTYPE 1 phone / 8 FaceTime video / 16 FaceTime audio, ZADDRESS, ZNAME,
// ZSERVICE_PROVIDER). ZADDRESS is declared VARCHAR but some releases store a blob
// (iLEAPP casts it): the iOS 16+ stores here hold it as a blob.

// Call is one ZCALLRECORD row.
type Call struct {
	Date     float64 // ZDATE as stored: seconds since 2001
	Duration float64
	Address  string
	Name     string
	Outgoing bool
	Answered bool
	CallType int // 1 phone, 8 FaceTime video, 16 FaceTime audio
	Service  string
	Country  string
}

func callRecords(t0 int64, seed int64) []Call {
	base := float64(t0-appleEpoch) - 9*day + float64(seed&0x3f)
	return []Call{
		{Date: base, Duration: 312.5, Address: "+15550100123", Answered: true, CallType: 1, Service: "com.apple.Telephony", Country: "us"},
		{Date: base + 3600, Duration: 1204, Address: "alice@example.com", Name: "Alice Martin", Outgoing: true, Answered: true, CallType: 8, Service: "com.apple.FaceTime"},
		{Date: base + 86400, Address: "+447700900456", CallType: 1, Service: "com.apple.Telephony", Country: "gb"},
		{Date: base + 2*86400, Duration: 65, Address: "bob@example.org", Outgoing: true, Answered: true, CallType: 16, Service: "com.apple.FaceTime"},
		{Date: base + 3*86400, Duration: 42, Address: "+972501234567", Name: "דוד כהן", Answered: true, CallType: 1, Service: "com.apple.Telephony", Country: "il"},
		{Date: base + 4*86400, Address: "+18005550000", Outgoing: true, CallType: 1, Service: "com.apple.Telephony", Country: "us"},
	}
}

func callHistoryDatabase(ver int, calls []Call) ([]byte, error) {
	cols := "Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER, ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA BLOB, ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER, ZREAD INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZADDRESS VARCHAR, ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR"
	if ver >= 13 {
		cols += ", ZHANDLE_TYPE INTEGER, ZLOCALPARTICIPANTUUID BLOB, ZOUTGOINGLOCALPARTICIPANTUUID BLOB, ZPARTICIPANTGROUPUUID BLOB"
	}
	if ver >= 14 {
		cols += ", ZJUNKCONFIDENCE INTEGER, ZJUNKIDENTIFICATIONCATEGORY VARCHAR, ZVERIFICATIONSTATUS INTEGER, ZFILTEREDOUTREASON INTEGER"
	}
	img, err := sqliteImage(func(tx *sql.Tx) error {
		if err := execAll(tx,
			"CREATE TABLE ZCALLRECORD ("+cols+")",
			"CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER)",
			"CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB)",
		); err != nil {
			return err
		}
		for i, c := range calls {
			var addr any = c.Address
			if ver >= 16 {
				addr = []byte(c.Address)
			}
			if _, err := tx.Exec(`INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZREAD, ZDATE, ZDURATION, ZADDRESS, ZISO_COUNTRY_CODE, ZNAME, ZSERVICE_PROVIDER, ZUNIQUE_ID)
				VALUES (?, 2, 1, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)`, i+1, c.Answered, c.CallType, c.Outgoing, c.Date, c.Duration,
				addr, null(c.Country), null(c.Name), c.Service, fmt.Sprintf("CALL-%04d", i+1)); err != nil {
				return fmt.Errorf("insert call: %w", err)
			}
		}
		_, err := tx.Exec("INSERT INTO Z_PRIMARYKEY VALUES (2, 'CallRecord', 0, ?)", len(calls))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("build CallHistory.storedata: %w", err)
	}
	return img, nil
}

// oldCallHistoryDatabase builds WirelessDomain Library/CallHistory/call_history.db,
// where iOS 7 and earlier kept calls: table call with Unix dates, duration in seconds
// and flags (bit 0 set: outgoing). Columns as in the iOS 5-7 dumps of forensic
// write-ups (address, date, duration, flags, id, name, country_code, read).
func oldCallHistoryDatabase(calls []Call) ([]byte, error) {
	img, err := sqliteImage(func(tx *sql.Tx) error {
		if err := execAll(tx,
			"CREATE TABLE call (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, date INTEGER, duration INTEGER, flags INTEGER, id INTEGER, name TEXT, country_code TEXT, network_code TEXT, read INTEGER, assisted INTEGER, face_time_data BLOB, originalAddress TEXT)",
			"CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key))",
		); err != nil {
			return err
		}
		for _, c := range calls {
			flags := 4
			if c.Outgoing {
				flags = 5
			}
			if _, err := tx.Exec("INSERT INTO call (address, date, duration, flags, id, read) VALUES (?, ?, ?, ?, -1, 1)",
				c.Address, int64(c.Date)+appleEpoch, int64(c.Duration), flags); err != nil {
				return fmt.Errorf("insert call: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build call_history.db: %w", err)
	}
	return img, nil
}

// oldCalls is what call_history.db can hold of calls: phone calls, whole seconds,
// answered when they lasted.
func oldCalls(calls []Call) []Call {
	var out []Call
	for _, c := range calls {
		if c.CallType != 1 {
			continue // FaceTime calls were not in call_history.db's era of this device
		}
		c.Date, c.Duration = float64(int64(c.Date)), float64(int64(c.Duration))
		c.Answered, c.Name, c.Service, c.Country = c.Duration > 0, "", "", ""
		out = append(out, c)
	}
	return out
}
