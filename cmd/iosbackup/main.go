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

// exitStatus ends the run with its code and no message of its own: verify and diff
// have printed what they found (1: problems or differences, as diff(1)).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// troubleError marks a failure of verify or diff to run at all: status 2, as diff(1)
// uses it, so that 1 keeps meaning "found something".
type troubleError struct{ err error }

func (t troubleError) Error() string { return t.err.Error() }
func (t troubleError) Unwrap() error { return t.err }

func main() {
	dumpHeapOnSignal()
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var status exitStatus
	if errors.As(err, &status) {
		return int(status)
	}
	fmt.Fprintf(os.Stderr, "iosbackup: %v\n", err)
	var u usageError
	var coded codedError
	var trouble troubleError
	switch {
	case errors.As(err, &coded):
		return coded.code
	case errors.As(err, &trouble):
		return exitUsage
	case errors.As(err, &u):
		fmt.Fprintln(os.Stderr, "Run 'iosbackup --help' for usage.")
		return exitUsage
	case errors.Is(err, decrypt.ErrWrongPassword):
		return exitWrongPassword
	}
	return exitError
}
