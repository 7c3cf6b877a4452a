package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPasswordFileDashReadsStdin unlocks the encrypted sample with the password piped in
// on standard input: the first line only, a wrong one exits 3, an empty stdin says so.
func TestPasswordFileDashReadsStdin(t *testing.T) {
	isolate(t)
	dir := filepath.Join(samples, "encrypted-synthetic-pw0000")
	catWith := func(stdin string) (int, string, string) {
		cmd := exec.Command(binary, "cat", "--no-saved-key", "--password-file", "-", dir, "MyTestDomain/Media/Test.txt")
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := catWith("0000\r\nnot the password\n"); code != 0 || out != "Test data" {
		t.Fatalf("password on stdin: exit %d, out %q, err %s", code, out, errOut)
	}
	if code, _, errOut := catWith("0001\n"); code != exitWrongPassword || !strings.Contains(errOut, "wrong password") {
		t.Fatalf("wrong password on stdin: exit %d, %s", code, errOut)
	}
	if code, _, errOut := catWith(""); code != exitError || !strings.Contains(errOut, "standard input is empty") {
		t.Fatalf("empty stdin: exit %d, %s", code, errOut)
	}
}
