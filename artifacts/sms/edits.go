package sms

import (
	"sort"
	"strconv"
	"time"

	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/artifacts/typedstream"
	"iosbackup/manifest"
)

// Edit is one version of an edited message part: when it was written and its text.
type Edit struct {
	Date time.Time
	Text string
}

// editHistory reads the edit history from message_summary_info (iOS 16+): a property
// list whose "ec" dictionary maps each edited part's index to its versions, oldest
// first (the last is the current text), each a dictionary of "d" (seconds since 2001)
// and "t" (the version's attributedBody, a typedstream). Parts are taken in index
// order. An unreadable summary gives no history: the message still reads.
func editHistory(info []byte) []Edit {
	if len(info) == 0 {
		return nil
	}
	var top map[string]any
	if err := manifest.DecodePlist(info, &top); err != nil {
		return nil
	}
	ec, _ := top["ec"].(map[string]any)
	parts := make([]string, 0, len(ec))
	for k := range ec {
		parts = append(parts, k)
	}
	sort.Slice(parts, func(i, j int) bool {
		a, _ := strconv.Atoi(parts[i])
		b, _ := strconv.Atoi(parts[j])
		return a < b
	})
	var out []Edit
	for _, p := range parts {
		versions, _ := ec[p].([]any)
		for _, v := range versions {
			d, _ := v.(map[string]any)
			var e Edit
			switch t := d["d"].(type) {
			case float64:
				e.Date = sqlitex.CoreDataTime(t)
			case int64:
				e.Date = sqlitex.CoreDataTime(float64(t))
			case uint64:
				e.Date = sqlitex.CoreDataTime(float64(t))
			}
			if body, ok := d["t"].([]byte); ok {
				if a, err := typedstream.DecodeAttributedString(body); err == nil {
					e.Text = a.Text
				}
			}
			out = append(out, e)
		}
	}
	return out
}
