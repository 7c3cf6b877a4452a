package view

import (
	"io"

	"iosbackup/artifacts/calls"
	"iosbackup/artifacts/export"
)

// calls/calls.csv: date, direction, answered, duration, number, name, service; the
// name from the address book when the phone recorded none. Built on first use.
func (t *tree) callsDir(res *calls.Result, names export.Names) Node {
	when := t.when
	if n := len(res.Calls); n > 0 {
		when = res.Calls[n-1].Date.Unix() // Read returns them in date order
	}
	b := memBuilder{"calls.csv": newGenFile(t, "calls/calls.csv", when, func(w io.Writer) error {
		return calls.WriteCSV(w, res.Calls, names)
	})}
	return b.dir(t, "calls", when)
}
