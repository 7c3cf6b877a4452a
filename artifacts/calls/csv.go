package calls

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// CSVHeader is the first row of calls.csv.
var CSVHeader = []string{"date", "direction", "answered", "duration_seconds", "number", "name", "service"}

// WriteCSV writes calls.csv (RFC 4180): dates in local time with their offset
// (RFC 3339), name from names when it knows the number, else the recorded one.
func WriteCSV(w io.Writer, calls []Call, names func(string) string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, c := range calls {
		dir := "incoming"
		if c.Outgoing {
			dir = "outgoing"
		}
		ans := "no"
		if c.Answered {
			ans = "yes"
		}
		name := c.Name
		if names != nil {
			if n := names(c.Address); n != "" {
				name = n
			}
		}
		if err := cw.Write([]string{c.Date.In(time.Local).Format(time.RFC3339), dir, ans,
			fmt.Sprintf("%.0f", c.Duration.Seconds()), c.Address, name, c.Service}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
