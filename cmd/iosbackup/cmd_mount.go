//go:build !windows

package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"iosbackup/fs/fuse"
	"iosbackup/fs/view"
)

// readyFDEnv tells a --background child which inherited descriptor to report on.
const readyFDEnv = "IOSBACKUP_READY_FD"

func newMountCmd() *cobra.Command {
	var (
		u             unlockFlags
		background    bool
		allowOther    bool
		allowNonEmpty bool
		deviceOwners  bool
		rawSymlinks   bool
		noXAttrs      bool
		debug         bool
		logFile       string
	)
	cmd := &cobra.Command{
		Use:   "mount [BACKUP|ROOT] MOUNTPOINT",
		Short: "Mount a backup (or every backup in a folder) as a read-only filesystem",
		Long: `Mount a backup as a read-only filesystem, decrypting on the fly:

  MOUNTPOINT/domains/<Domain>/<path>   every domain, as in the manifest
  MOUNTPOINT/device/var/mobile/...     real device paths, domains merged
  MOUNTPOINT/apps/<App name>/          data/, groups/<id>/, plugins/<id>/ of each app
  MOUNTPOINT/photos/                   the camera roll: 100APPLE/IMG_0001.HEIC ...,
                                       by-date/YYYY/YYYY-MM-DD/, albums/<album>/
  MOUNTPOINT/messages/<conversation>/  messages.txt, messages.html, attachments/
  MOUNTPOINT/contacts/                 <Full Name>.vcf, all.vcf;  calls/calls.csv

Given a folder of backups (or nothing: the default root), every backup in it gets a
folder named by device and date, so 'diff -r' compares two of them. An encrypted backup
that stays locked shows as an empty folder with a README.txt saying why.

Runs in the foreground until Ctrl-C, SIGTERM or 'iosbackup unmount MOUNTPOINT';
--background returns once the mount is ready.`,
		Example: `  iosbackup mount ~/backups/00008030-001A /mnt/phone
  iosbackup mount --background 00008030 /mnt/phone && cp -a /mnt/phone/photos ~/Pictures/phone
  iosbackup mount ~/backups /mnt/all && diff -r "/mnt/all/iPhone 2026-01-02 10.00" "/mnt/all/iPhone 2026-02-01 10.00"`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mountpoint := args[len(args)-1]
			if err := fuse.CheckMountpoint(mountpoint, allowNonEmpty); err != nil {
				return err // before --background forks, and before a password is asked
			}
			if background && os.Getenv(readyFDEnv) == "" {
				return runInBackground()
			}
			src := ""
			if len(args) == 2 {
				src = args[0]
			}
			if err := readInheritedSecrets(); err != nil {
				return err
			}
			backups, notes, err := openForMount(src, &u)
			forgetInheritedSecrets()
			if err != nil {
				return err
			}
			root := view.New(view.Options{DeviceOwners: deviceOwners, RawSymlinks: rawSymlinks}, backups...)
			server, err := fuse.Mount(mountpoint, root, fuse.MountOptions{
				AllowOther: allowOther, Debug: debug, NoXAttrs: noXAttrs, AllowNonEmpty: allowNonEmpty,
			})
			if err != nil {
				return err
			}
			return serve(server, mountpoint, backups, notes, logFile)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&background, "background", false, "return once the mount is ready and keep serving it in the background")
	f.BoolVar(&allowOther, "allow-other", false, "let other users read the mount (needs user_allow_other in /etc/fuse.conf); they get what the recorded modes allow")
	f.BoolVar(&allowNonEmpty, "allow-non-empty", false, "mount over a folder that holds files (they are hidden while mounted)")
	f.BoolVar(&deviceOwners, "device-owners", false, "show the device's uid/gid (usually 501) instead of yours")
	f.BoolVar(&rawSymlinks, "raw-symlinks", false, "keep the device's absolute symlink targets instead of ones that resolve inside device/")
	f.BoolVar(&noXAttrs, "no-xattrs", false, "hide extended attributes")
	f.BoolVar(&debug, "debug", false, "log every FUSE request")
	f.StringVar(&logFile, "log", "", "with --background: append messages (unreadable files, errors) to `FILE` instead of dropping them")
	u.register(cmd)
	return cmd
}

type server interface {
	Wait()
	Unmount() error
}

// serve announces the mount, then waits until it is unmounted: from outside, or on
// Ctrl-C/SIGTERM, where a busy mount is detached after saying who holds it.
func serve(srv server, mountpoint string, backups []view.Backup, notes []string, logFile string) error {
	names := ""
	for i, b := range backups {
		if i > 0 {
			names += ", "
		}
		if b.Source != nil {
			names += b.Source.Name()
		} else {
			names += b.Name + " (locked)"
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	if fd := os.Getenv(readyFDEnv); fd != "" {
		// --background child: leave the terminal's session so its Ctrl-C and hangup no
		// longer reach us, then tell the waiting parent. The notes are said on the
		// terminal, and again in the log that outlives it.
		_, _ = syscall.Setsid()
		warnAll(notes)
		if err := detachOutput(logFile); err != nil {
			return err
		}
		warnAll(notes)
		n, _ := strconv.Atoi(fd)
		ready := os.NewFile(uintptr(n), "ready")
		fmt.Fprintf(ready, "ready %d\n", os.Getpid())
		ready.Close()
	} else {
		warnAll(notes)
		fmt.Fprintf(os.Stderr, "mounted %s at %s (read-only); Ctrl-C or 'iosbackup unmount %s' to unmount\n",
			names, mountpoint, mountpoint)
	}

	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return nil
		case <-sigs:
			if err := srv.Unmount(); err == nil {
				<-done
				return nil
			}
			holders, err := fuse.Unmount(mountpoint)
			if len(holders) > 0 {
				fmt.Fprintf(os.Stderr, "%s is busy; detached it lazily (it goes away when these let go):\n%s",
					mountpoint, fuse.HoldersText(holders))
			}
			if err != nil {
				warnf("%v", err)
				continue
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
			return nil
		}
	}
}

// detachOutput points this process's stdout and stderr at logFile (or /dev/null), so
// the caller's terminal or pipe is released: `x=$(iosbackup mount --background ...)`
// must return, and a daemon must not write on a terminal it no longer belongs to.
func detachOutput(logFile string) error {
	target := os.DevNull
	if logFile != "" {
		target = logFile
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("--log: %w", err)
	}
	defer f.Close()
	for _, fd := range []int{1, 2} {
		if err := unix.Dup2(int(f.Fd()), fd); err != nil {
			return fmt.Errorf("detach output: %w", err)
		}
	}
	log.SetOutput(os.Stderr)
	return nil
}

// runInBackground starts this command again as a child that mounts and serves, and
// returns once the child says the mount is ready (or fails, with its error).
func runInBackground() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--background: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("--background: %w", err)
	}
	// The password and key reach the child through a pipe, not its environment
	// (bgsecrets.go): a long-lived process's /proc/PID/environ keeps them.
	env, secrets := withholdSecrets(os.Environ())
	secretsR, err := secretsPipe(secrets)
	if err != nil {
		return fmt.Errorf("--background: %w", err)
	}
	defer secretsR.Close()
	child := exec.Command(exe, os.Args[1:]...)
	child.Env = append(env, readyFDEnv+"=3", secretsFDEnv+"=4")
	child.ExtraFiles = []*os.File{w, secretsR}
	// The child keeps our stdin/stderr until it is ready, so a password prompt and its
	// errors still reach the user; its stdout is not ours to share.
	child.Stdin, child.Stderr = os.Stdin, os.Stderr
	if err := child.Start(); err != nil {
		return fmt.Errorf("--background: %w", err)
	}
	w.Close()
	line := make([]byte, 64)
	n, _ := io.ReadAtLeast(r, line, 1)
	r.Close()
	if n > 0 && string(line[:5]) == "ready" {
		_ = child.Process.Release()
		return nil
	}
	err = child.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode()) // the child already printed why
	}
	return errors.New("--background: the mount did not start")
}

func newUnmountCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "unmount MOUNTPOINT",
		Short: "Unmount a mounted backup (a busy one is detached, saying who holds it)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			holders, err := fuse.Unmount(args[0])
			if len(holders) > 0 {
				fmt.Fprintf(os.Stderr, "%s was busy; detached it lazily (it goes away when these let go):\n%s",
					args[0], fuse.HoldersText(holders))
			}
			return err
		},
	}
}
