// Command iosbackup reads, mounts and captures iOS device backups.
package main

import (
	"errors"
	"fmt"
	"os"

	"iosbackup/decrypt"
)

// Exit codes are part of the interface: scripts tell a wrong password from other errors.
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2
	exitWrongPassword = 3
)

// usageError marks mistakes in how the command was called.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(os.Stderr, "iosbackup: %v\n", err)
	var u usageError
	switch {
	case errors.As(err, &u):
		fmt.Fprintln(os.Stderr, "Run 'iosbackup --help' for usage.")
		return exitUsage
	case errors.Is(err, decrypt.ErrWrongPassword):
		return exitWrongPassword
	}
	return exitError
}
