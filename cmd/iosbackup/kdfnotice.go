package main

import (
	"fmt"
	"os"

	"github.com/dustin/go-humanize"
	"golang.org/x/term"
)

// kdfNotice tells a user at a terminal why nothing happens for seconds: the password
// goes through 10,000,000 rounds of PBKDF2 before the backup opens. Scripts and logs
// (stderr not a terminal) are not bothered.
func kdfNotice(rounds int) {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		fmt.Fprintf(os.Stderr, "deriving the key (%s rounds)...\n", humanize.Comma(int64(rounds)))
	}
}
