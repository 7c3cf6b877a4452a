package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"iosbackup/backup"
)

// unlockFlags are the ways to open an encrypted backup. There is deliberately no
// --password flag: other users can read a process's argv.
type unlockFlags struct {
	passwordFile string
	keyHex       string
	keyFile      string
	noSavedKey   bool
	root         string

	stdinPassword []byte // read once for --password-file -: standard input cannot be read twice
	stdinRead     bool
}

func (u *unlockFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&u.passwordFile, "password-file", "", "read the backup password from `FILE` (first line; - for standard input)")
	f.StringVar(&u.keyHex, "key", "", "unlock with a derived key (`HEX`, from 'iosbackup key'); visible to other users in ps: prefer --key-file or a saved key")
	f.StringVar(&u.keyFile, "key-file", "", "unlock with a derived key read from `FILE` (hex)")
	f.BoolVar(&u.noSavedKey, "no-saved-key", false, "ignore keys saved with 'iosbackup key --save'")
	f.StringVar(&u.root, "root", "", "backup root used to find BACKUP by UDID or name (default: the platform's MobileSync/Backup, or IOSBACKUP_ROOT)")
}

// rootDirs are the folders a BACKUP given by UDID or name is looked for in: --root, or
// the platform's (two on Windows).
func (u *unlockFlags) rootDirs() []string {
	if u.root != "" {
		return []string{u.root}
	}
	return backup.DefaultRoots()
}

// options builds backup.Options from the flags, the environment and the saved keys.
func (u *unlockFlags) options() (backup.Options, error) {
	opt := backup.Options{
		Warn:     func(s string) { warnf("%s", s) },
		Password: u.password,
		Deriving: kdfNotice,
	}
	switch {
	case u.keyHex != "":
		k, err := parseKeyHex(u.keyHex)
		if err != nil {
			return opt, usageError{fmt.Errorf("--key: %w", err)}
		}
		opt.Key = k
	case u.keyFile != "":
		warnIfShared(u.keyFile, "--key-file")
		data, err := os.ReadFile(u.keyFile)
		if err != nil {
			return opt, fmt.Errorf("--key-file: %w", err)
		}
		k, err := parseKeyHex(string(data))
		if err != nil {
			return opt, fmt.Errorf("--key-file %s: %w", u.keyFile, err)
		}
		opt.Key = k
	case secretEnv("IOSBACKUP_KEY") != "":
		k, err := parseKeyHex(secretEnv("IOSBACKUP_KEY"))
		if err != nil {
			return opt, fmt.Errorf("IOSBACKUP_KEY: %w", err)
		}
		opt.Key = k
	}
	if !u.noSavedKey {
		opt.SavedKey = loadSavedKey
	}
	return opt, nil
}

func parseKeyHex(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not a hex key: %w", err)
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("a derived key is 32 bytes (64 hex digits), got %d bytes", len(k))
	}
	return k, nil
}

// password reads the backup password from, in order: --password-file,
// IOSBACKUP_PASSWORD, or a prompt on the terminal without echo.
func (u *unlockFlags) password() ([]byte, error) {
	if u.passwordFile == "-" {
		return u.passwordFromStdin()
	}
	if u.passwordFile != "" {
		data, err := os.ReadFile(u.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		return firstLine(data), nil
	}
	if pw, ok := lookupSecret("IOSBACKUP_PASSWORD"); ok {
		return []byte(pw), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		if term.IsTerminal(int(os.Stdin.Fd())) {
			return promptOn(os.Stdin, os.Stderr)
		}
		return nil, errors.New("the backup is encrypted: give the password with --password-file FILE or IOSBACKUP_PASSWORD (no terminal to ask on)")
	}
	defer tty.Close()
	return promptOn(tty, tty)
}

// passwordFromStdin reads the first line of standard input, once: a mount of a folder
// of backups asks for each encrypted one, and they share the one password given.
func (u *unlockFlags) passwordFromStdin() ([]byte, error) {
	if !u.stdinRead {
		line, err := bufio.NewReader(os.Stdin).ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("--password-file -: reading standard input: %w", err)
		}
		if len(line) == 0 {
			return nil, errors.New("--password-file -: standard input is empty (pipe the password in)")
		}
		u.stdinPassword, u.stdinRead = firstLine(line), true
	}
	return u.stdinPassword, nil
}

// firstLine is the password in data: files written by `echo` end in a newline that is
// not part of the password.
func firstLine(data []byte) []byte {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

func promptOn(in *os.File, out *os.File) ([]byte, error) {
	fmt.Fprint(out, "Backup password: ")
	pw, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(out)
	if err != nil {
		return nil, fmt.Errorf("reading password: %w", err)
	}
	return pw, nil
}

// Saved keys live in the user's config dir, one file per keybag UUID, mode 0600 in a
// 0700 folder: a saved key opens the backup like the password does.
func keyDir() (string, error) {
	if d := os.Getenv("IOSBACKUP_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "keys"), nil
	}
	c, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locating config dir: %w", err)
	}
	return filepath.Join(c, "iosbackup", "keys"), nil
}

func keyPath(keybagID string) (string, error) {
	if keybagID == "" || strings.ContainsAny(keybagID, `/\.`) {
		return "", fmt.Errorf("invalid keybag id %q", keybagID)
	}
	d, err := keyDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, keybagID+".key"), nil
}

func loadSavedKey(keybagID string) []byte {
	p, err := keyPath(keybagID)
	if err != nil {
		return nil
	}
	keepPrivate(filepath.Dir(p), "saved-keys folder", 0o700)
	keepPrivate(p, "saved key", 0o600)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	k, err := parseKeyHex(string(data))
	if err != nil {
		warnf("ignoring saved key %s: %v", p, err)
		return nil
	}
	return k
}

func saveKey(keybagID string, kek []byte) (string, error) {
	p, err := keyPath(keybagID)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("save key: %w", err)
	}
	keepPrivate(filepath.Dir(p), "saved-keys folder", 0o700) // MkdirAll leaves an existing one as it is
	// Write to a private temp file and rename, so the key is never readable by others,
	// not even for an instant, and a crash leaves no half-written key.
	tmp, err := os.CreateTemp(filepath.Dir(p), ".key-*")
	if err != nil {
		return "", fmt.Errorf("save key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save key: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(kek) + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("save key: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("save key: %w", err)
	}
	return p, nil
}

// openBackup resolves BACKUP and opens it with the unlock flags.
func openBackup(arg string, u *unlockFlags) (*backup.Backup, error) {
	dir, err := backup.ResolveIn(arg, u.rootDirs())
	if err != nil {
		return nil, err
	}
	warnLeftover(dir)
	opt, err := u.options()
	if err != nil {
		return nil, err
	}
	return backup.Open(dir, opt)
}

// warnLeftover says so when a backup is read from where an interrupted capture left it.
func warnLeftover(dir string) {
	if backup.IsLeftover(dir) {
		warnf("reading %s: a capture was interrupted while publishing this backup; the next 'iosbackup capture' puts it back in place", dir)
	}
}
