package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"iosbackup/backup"
	"iosbackup/capture"
)

// deviceFlags choose the device and the usbmuxd that reaches it.
type deviceFlags struct {
	udid   string
	socket string
}

func (d *deviceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&d.udid, "udid", "u", "", "the device's `UDID` (default: IOSBACKUP_UDID, else the only one connected)")
	cmd.Flags().StringVar(&d.socket, "usbmuxd", "", "usbmuxd `ADDRESS` (unix:///path, /path, UNIX:/path or host:port; default: USBMUXD_SOCKET_ADDRESS or the system's)")
}

func (d *deviceFlags) target() capture.Target {
	udid := d.udid
	if udid == "" {
		udid = os.Getenv("IOSBACKUP_UDID")
	}
	return capture.Target{UDID: udid, Socket: d.socket}
}

// interruptible returns a context cancelled by Ctrl-C or SIGTERM: capture closes the
// device session properly and leaves the previous backup untouched.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func newDevicesCmd() *cobra.Command {
	var (
		d      deviceFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List connected iPhones and iPads",
		Args:  rangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := interruptible()
			defer cancel()
			devs, err := capture.ListDevices(ctx, d.socket)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(devicesJSON(devs))
			}
			if len(devs) == 0 {
				fmt.Fprintln(os.Stderr, "no device connected")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tMODEL\tIOS\tUDID\tPAIRED\tENCRYPTION\tNOTE")
			for _, v := range devs {
				enc := "?"
				if v.EncryptionKnown {
					enc = map[bool]string{true: "on", false: "off"}[v.Encrypted]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(v.Name), orDash(v.ProductType),
					orDash(v.ProductVersion), v.UDID, yesNo(v.Paired), enc, v.Problem)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&d.socket, "usbmuxd", "", "usbmuxd `ADDRESS` (unix:///path, /path, UNIX:/path or host:port; default: USBMUXD_SOCKET_ADDRESS or the system's)")
	return cmd
}

func newCaptureCmd() *cobra.Command {
	var (
		d         deviceFlags
		full      bool
		progress  string
		asJSON    bool
		skipSpace bool
		noHistory bool
		keep      keepFlags
	)
	cmd := &cobra.Command{
		Use:   "capture [ROOT]",
		Short: "Take a backup of a connected device into ROOT/<UDID>/",
		Long: `Take a backup of a connected iPhone or iPad over USB, in the folder format iTunes and
Finder write, into ROOT/<UDID>/ (ROOT defaults to the platform's MobileSync/Backup
folder, or IOSBACKUP_ROOT). The backup is incremental when a complete previous one is
there, unless --full.

The backup it replaces is kept as a snapshot in ROOT/<UDID>.history/<time>/ (a complete
backup folder; unchanged files are shared with copy-on-write clones or hard links, so
they take no new space), unless --no-history. --keep-* prunes the history afterwards as
'iosbackup forget' does.

Ctrl-C at any moment stops cleanly: the previous backup stays complete and usable, and
the next capture starts afresh. The device may ask you to unlock it, tap Trust, or
enter its passcode: the progress line says so.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := backup.DefaultRoot()
			if len(args) == 1 {
				root = args[0]
			}
			if noHistory && !keep.p.Empty() {
				return usageError{errors.New("--no-history keeps no snapshot: --keep-* has nothing to prune")}
			}
			if err := os.MkdirAll(root, 0o700); err != nil {
				return fmt.Errorf("backup root: %w", err)
			}
			r, err := newRenderer(progress, asJSON, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			ctx, cancel := interruptible()
			defer cancel()
			res, err := capture.Run(ctx, capture.Options{
				Target: d.target(), Root: root, Full: full, SkipSpaceCheck: skipSpace, Progress: r.event,
				NoHistory: noHistory, Keep: keep.p,
			})
			r.finish()
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(resultJSON(res))
			}
			kind := "full"
			if res.Incremental {
				kind = "incremental"
			}
			fmt.Fprintf(os.Stderr, "%s backup of %s done in %s: %d files, %s received, %d removed -> %s\n",
				kind, res.UDID, res.Duration.Round(time.Second), res.Files, humanBytes(res.Bytes), res.Removed, res.Dir)
			return nil
		},
	}
	d.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&full, "full", false, "take a full backup even when a previous one is there")
	f.StringVar(&progress, "progress", "auto", "progress display: `auto` (a bar on a terminal, else plain lines), bar, plain, none")
	f.BoolVar(&asJSON, "json", false, "print progress events and the result as JSON lines on standard output")
	f.BoolVar(&skipSpace, "skip-space-check", false, "do not compare the device's used space with the free disk space first")
	f.BoolVar(&noHistory, "no-history", false, "delete the backup this one replaces instead of keeping it as a snapshot")
	keep.register(cmd)
	return cmd
}

func newPairCmd() *cobra.Command {
	var d deviceFlags
	cmd := &cobra.Command{
		Use:   "pair",
		Short: "Ask the device to trust this computer (tap Trust on the device)",
		Args:  rangeArgs(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := interruptible()
			defer cancel()
			r, _ := newRenderer("plain", false, cmd.OutOrStdout())
			if err := capture.Pair(ctx, d.target(), r.event); err != nil {
				return err
			}
			fmt.Fprintln(os.Stderr, "paired")
			return nil
		},
	}
	d.register(cmd)
	return cmd
}

func newEncryptionCmd() *cobra.Command {
	var (
		d         deviceFlags
		pwFile    string
		newPwFile string
		noConfirm bool
	)
	cmd := &cobra.Command{
		Use:   "encryption on|off|change",
		Short: "Turn the device's backup encryption on or off, or change its password",
		Long: `Turn the device's backup encryption on or off, or change its password. The device
may ask for its passcode to confirm.

Passwords are read as for every command, never from the command line: the current one
from --password-file FILE, IOSBACKUP_PASSWORD or a prompt; the new one from
--new-password-file FILE, IOSBACKUP_NEW_PASSWORD or a prompt (asked twice).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := interruptible()
			defer cancel()
			r, _ := newRenderer("plain", false, cmd.OutOrStdout())
			current := unlockFlags{passwordFile: pwFile}
			pw := func(kind capture.PasswordKind) ([]byte, error) {
				if kind == capture.PasswordCurrent {
					return current.password()
				}
				return newPassword(newPwFile, !noConfirm)
			}
			var err error
			switch args[0] {
			case "on":
				err = capture.SetEncryption(ctx, d.target(), true, pw, r.event)
			case "off":
				err = capture.SetEncryption(ctx, d.target(), false, pw, r.event)
			case "change":
				err = capture.ChangePassword(ctx, d.target(), pw, r.event)
			default:
				return usageError{fmt.Errorf("encryption %q: want on, off or change", args[0])}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "backup encryption: %s done\n", args[0])
			return nil
		},
	}
	d.register(cmd)
	cmd.Flags().StringVar(&pwFile, "password-file", "", "read the current backup password from `FILE`")
	cmd.Flags().StringVar(&newPwFile, "new-password-file", "", "read the new backup password from `FILE`")
	cmd.Flags().BoolVar(&noConfirm, "no-confirm", false, "ask for a new password once, not twice")
	return cmd
}

// newPassword reads a password to set: from a file, IOSBACKUP_NEW_PASSWORD, or twice
// from the terminal.
func newPassword(file string, confirm bool) ([]byte, error) {
	if file != "" || os.Getenv("IOSBACKUP_NEW_PASSWORD") != "" {
		if file == "" {
			return []byte(os.Getenv("IOSBACKUP_NEW_PASSWORD")), nil
		}
		u := unlockFlags{passwordFile: file}
		return u.password()
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errors.New("a new password is needed: give it with --new-password-file FILE or IOSBACKUP_NEW_PASSWORD (no terminal to ask on)")
	}
	defer tty.Close()
	fmt.Fprint(tty, "New backup password: ")
	a, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("reading password: %w", err)
	}
	if !confirm {
		return a, nil
	}
	fmt.Fprint(tty, "Again: ")
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("reading password: %w", err)
	}
	if string(a) != string(b) {
		return nil, errors.New("the two passwords differ")
	}
	clear(b)
	return a, nil
}
