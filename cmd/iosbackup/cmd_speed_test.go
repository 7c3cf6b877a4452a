package main

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"testing"
)

func TestSpeedPrintsBothMeasurements(t *testing.T) {
	cmd := newSpeedCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--duration", "20ms"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	// Two lines per measurement, each with a positive figure.
	for _, re := range []string{
		`iosbackup +([0-9.]+) (?:MiB|GiB)/s`, `Go stdlib +([0-9.]+) (?:MiB|GiB)/s`,
		`iosbackup +([0-9.]+) s\n`, `Go stdlib +([0-9.]+) s `,
	} {
		m := regexp.MustCompile(re).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("output lacks %q:\n%s", re, out.String())
		}
		if v, err := strconv.ParseFloat(m[1], 64); err != nil || v <= 0 {
			t.Errorf("%q: figure %q is not a positive number", re, m[1])
		}
	}
}

func TestSpeedRejectsBadDuration(t *testing.T) {
	for _, d := range []string{"0s", "-1s", "2m"} {
		cmd := newSpeedCmd()
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs([]string{"--duration", d})
		var u usageError
		if err := cmd.Execute(); !errors.As(err, &u) {
			t.Errorf("--duration %s: got %v, want a usage error", d, err)
		}
	}
}
