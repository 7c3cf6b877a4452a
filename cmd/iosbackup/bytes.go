package main

import "github.com/dustin/go-humanize"

// humanBytes formats a byte count, "-" when unknown (negative). Every command and the
// capture library use go-humanize's IEC units (KiB, MiB, GiB), so consecutive lines
// never disagree ("2.2 GB" then "2.0 GiB" for the same bytes).
func humanBytes(n int64) string {
	if n < 0 {
		return "-"
	}
	return humanize.IBytes(uint64(n))
}
