package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// A --background mount lives on for days, and /proc/PID/environ shows its environment
// as it was at exec to anyone who may ptrace it (and to root): clearing a variable
// inside the process does not change that copy. So the parent does not pass the
// password or key to the child in its environment: it withholds them and writes them
// into an inherited pipe, which the child reads once and closes.

// secretsFDEnv tells a --background child which inherited descriptor holds the
// withheld variables.
const secretsFDEnv = "IOSBACKUP_SECRETS_FD"

// secretVars are the variables withheld from the child's environment.
var secretVars = []string{"IOSBACKUP_PASSWORD", "IOSBACKUP_KEY"}

// inheritedSecrets holds what the child read from the pipe, until it has unlocked.
var inheritedSecrets map[string]string

// lookupSecret is os.LookupEnv for the secret variables, seeing those a --background
// parent passed through the pipe.
func lookupSecret(name string) (string, bool) {
	if v, ok := inheritedSecrets[name]; ok {
		return v, true
	}
	return os.LookupEnv(name)
}

func secretEnv(name string) string {
	v, _ := lookupSecret(name)
	return v
}

// withholdSecrets splits env into what the child gets and the secret variables, which
// are returned encoded for the pipe (NAME=value records ended by NUL, which no
// environment value contains).
func withholdSecrets(env []string) (rest []string, secrets []byte) {
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if isSecretVar(name) {
			secrets = append(append(secrets, kv...), 0)
			continue
		}
		rest = append(rest, kv)
	}
	return rest, secrets
}

func isSecretVar(name string) bool {
	for _, s := range secretVars {
		if name == s {
			return true
		}
	}
	return false
}

// secretsPipe returns the read end of a pipe already holding secrets (a few bytes: the
// pipe's buffer takes them without a reader), for the child to inherit.
func secretsPipe(secrets []byte) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	_, err = w.Write(secrets)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// readInheritedSecrets reads the variables a --background parent withheld, if it did.
func readInheritedSecrets() error {
	fdText := os.Getenv(secretsFDEnv)
	if fdText == "" {
		return nil
	}
	fd, err := strconv.Atoi(fdText)
	if err != nil {
		return fmt.Errorf("%s=%q: %w", secretsFDEnv, fdText, err)
	}
	f := os.NewFile(uintptr(fd), "secrets")
	if f == nil {
		return fmt.Errorf("%s=%d: not a descriptor", secretsFDEnv, fd)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the password from the parent: %w", err)
	}
	inheritedSecrets = parseSecrets(data)
	clear(data)
	return nil
}

// parseSecrets decodes withholdSecrets' records, keeping the secret variables only.
func parseSecrets(data []byte) map[string]string {
	m := map[string]string{}
	for _, rec := range bytes.Split(data, []byte{0}) {
		if name, value, ok := strings.Cut(string(rec), "="); ok && isSecretVar(name) {
			m[name] = value
		}
	}
	return m
}

// forgetInheritedSecrets drops them once every backup is unlocked.
func forgetInheritedSecrets() { inheritedSecrets = nil }
