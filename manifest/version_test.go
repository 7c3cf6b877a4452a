package manifest

import "testing"

func TestIOSVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"9.3.5", "10.0", true}, {"10.0", "9.3.5", false}, {"17.5", "17.5.1", true}, {"17.5.1", "17.5", false},
		{"17.5", "17.5.0", false}, {"14.8", "14.8", false}, {"16", "16.0.1", true}, {"18.0b2", "18.0", false},
		{"", "1", true}, {"..", "0", false},
	} {
		if got := IOSVersionLess(c.a, c.b); got != c.less {
			t.Errorf("IOSVersionLess(%q, %q) = %v, want %v", c.a, c.b, got, c.less)
		}
	}
	for v, want := range map[string]int{"9.3.5": 9, "18": 18, "10.0b1": 10, "": 0, "x.1": 0} {
		if got := IOSMajor(v); got != want {
			t.Errorf("IOSMajor(%q) = %d, want %d", v, got, want)
		}
	}
}

func FuzzIOSVersionLess(f *testing.F) {
	f.Add("17.5.1", "9.3")
	f.Add("..", "1.")
	f.Fuzz(func(t *testing.T, a, b string) {
		if IOSVersionLess(a, b) && IOSVersionLess(b, a) {
			t.Fatalf("%q and %q are each less than the other", a, b)
		}
		if IOSVersionLess(a, a) {
			t.Fatalf("%q less than itself", a)
		}
		_ = IOSMajor(a)
	})
}
