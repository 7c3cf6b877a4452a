package manifest

import "strings"

// IOSVersionLess compares two iOS versions such as "9.3.5" and "10.0" numerically, part
// by part, a missing part counting as 0 ("17.5" == "17.5.0"). Each part's leading digits
// count and the rest is ignored ("18.0b2" == "18.0"): Info.plist's Product Version and
// lockdown's ProductVersion hold nothing else on a real device, and a hostile value must
// still compare without failing.
func IOSVersionLess(a, b string) bool {
	pa, pb := iosVersionParts(a), iosVersionParts(b)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// IOSMajor is the major number of an iOS version ("9.3.5": 9), 0 when it has none.
func IOSMajor(v string) int {
	if p := iosVersionParts(v); len(p) > 0 {
		return p[0]
	}
	return 0
}

func iosVersionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' || n > 1e6 {
				break
			}
			n = n*10 + int(c-'0')
		}
		out = append(out, n)
	}
	return out
}
