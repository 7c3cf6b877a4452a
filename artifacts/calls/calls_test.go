package calls

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"iosbackup/artifacts/internal/gentest"
	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/internal/gen"
)

func TestCallsMatchTruth(t *testing.T) {
	for _, v := range gentest.Versions {
		t.Run(v.Name, func(t *testing.T) {
			truth, b := gentest.Generate(t, v)
			res, err := Read(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Calls) != len(truth.Calls) || res.Skipped != 0 {
				t.Fatalf("%d calls (%d skipped), want %d", len(res.Calls), res.Skipped, len(truth.Calls))
			}
			services := map[int]string{1: "Phone", 8: "FaceTime Video", 16: "FaceTime Audio"}
			for i, c := range res.Calls {
				w := truth.Calls[i]
				if !c.Date.Equal(sqlitex.CoreDataTime(w.Date)) || c.Duration.Seconds() != w.Duration || c.Outgoing != w.Outgoing ||
					c.Answered != w.Answered || c.Address != w.Address || c.Name != w.Name || c.Service != services[w.CallType] {
					t.Errorf("call %d: %+v, want %+v", i, c, w)
				}
			}
			checkCSV(t, res.Calls, truth.Calls)
		})
	}
}

// checkCSV parses calls.csv with encoding/csv and compares every field.
func checkCSV(t *testing.T, calls []Call, want []gen.Call) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, calls, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want)+1 || len(rows[0]) != 7 || rows[0][0] != "date" {
		t.Fatalf("csv: %d rows, header %v", len(rows), rows[0])
	}
	for i, w := range want {
		r := rows[i+1]
		d, err := time.Parse(time.RFC3339, r[0])
		if err != nil || !d.Equal(sqlitex.CoreDataTime(w.Date).Truncate(time.Second)) {
			t.Errorf("csv row %d: date %q (%v)", i, r[0], err)
		}
		dir := map[bool]string{true: "outgoing", false: "incoming"}[w.Outgoing]
		ans := map[bool]string{true: "yes", false: "no"}[w.Answered]
		secs, _ := strconv.ParseFloat(r[3], 64)
		if r[1] != dir || r[2] != ans || secs != float64(int64(w.Duration+0.5)) && secs != float64(int64(w.Duration)) || r[4] != w.Address || r[5] != w.Name {
			t.Errorf("csv row %d: %q, want %+v", i, r, w)
		}
	}
}

func TestCallsMissingDatabase(t *testing.T) {
	truth, b := gentest.Generate(t, gentest.Named("iOS14"))
	e := truth.Lookup(Domain, Path)
	id := e.ID().String()
	if err := os.Remove(filepath.Join(truth.Dir, id[:2], id)); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(context.Background(), b); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a listed but missing database: err %v", err)
	}
}
