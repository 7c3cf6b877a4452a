package manifest

import (
	"strings"
	"unicode/utf8"
)

// Closest returns the name of names nearest to word, for a "did you mean": the same
// name in another case, else the first that word starts (a name cut short), or else the one fewest edits away
// when that is at most a third of word's length (at least 2), ties to the first.
// "" when none is close.
func Closest(word string, names []string) string {
	lw := strings.ToLower(word)
	if lw == "" {
		return ""
	}
	best, bestD := "", -1
	limit := max(2, utf8.RuneCountInString(word)/3)
	for _, n := range names {
		ln := strings.ToLower(n)
		if ln == lw {
			return n
		}
		if strings.HasPrefix(ln, lw) {
			if bestD != 0 {
				best, bestD = n, 0
			}
			continue
		}
		if d := editDistance(lw, ln); d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
