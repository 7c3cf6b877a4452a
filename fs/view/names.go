package view

import (
	"fmt"
	"strings"
)

// sanitizeName makes a display name usable as one folder name, else returns fallback.
func sanitizeName(s, fallback string) string {
	s = strings.ReplaceAll(s, "/", "_")
	s = strings.ReplaceAll(s, "\x00", "")
	if !validName(s) {
		return fallback
	}
	return s
}

// uniqueNames returns names with every name that occurs more than once replaced by its
// alternative (when given and valid), then numbered until all are distinct.
func uniqueNames(names, alts []string) []string {
	count := map[string]int{}
	for _, n := range names {
		count[n]++
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if count[n] > 1 && alts != nil && validName(alts[i]) {
			out[i] = alts[i]
		}
	}
	seen := map[string]bool{}
	for i, n := range out {
		cand := n
		for k := 2; seen[cand]; k++ {
			cand = fmt.Sprintf("%s (%d)", n, k)
		}
		seen[cand] = true
		out[i] = cand
	}
	return out
}

// validName reports whether s can be shown as one directory entry.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= MaxNameLen &&
		!strings.ContainsAny(s, "/\x00")
}

// MaxNameLen is NAME_MAX: longer names cannot be looked up on Linux, so they are not
// listed.
const MaxNameLen = 255

// sortedOrder is the order of names sorted, as indexes into names.
func sortedOrder(names []string) []int {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // insertion sort: a handful of backups
		for j := i; j > 0 && names[order[j]] < names[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}

func searchStrings(s []string, x string) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s) && s[lo] == x
}
