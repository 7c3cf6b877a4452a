// Command devicesim runs a simulated iPhone behind a fake usbmuxd socket, serving the
// contents of a backup folder to mobilebackup2 clients (iosbackup capture, or
// libimobiledevice's idevicebackup2 with USBMUXD_SOCKET_ADDRESS=UNIX:PATH).
//
//	devicesim --socket /tmp/mux.sock --udid UDID --from BACKUP_DIR
//
// It prints one ready line, then serves until interrupted. The backup password the
// device "has" (for encryption off/change) comes from DEVICESIM_PASSWORD, never argv.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"iosbackup/internal/devicesim"
)

func main() {
	socket := flag.String("socket", "", "path of the fake usbmuxd unix socket (required)")
	udid := flag.String("udid", devicesim.DefaultUDID, "UDID of the simulated device")
	from := flag.String("from", "", "backup folder the device serves (required)")
	ssl := flag.Bool("ssl", true, "run mobilebackup2 over TLS")
	verbose := flag.Bool("v", false, "log every protocol request on stderr")
	locked := flag.Bool("locked", false, "answer Hello with error 208 (device locked)")
	unpaired := flag.Bool("unpaired", false, "start without a pair record")
	trust := flag.Int("trust-prompts", 0, "answer this many Pair requests with 'dialog pending'")
	wait := flag.Duration("passcode-wait", 0, "pause after a Backup request (passcode entry)")
	cut := flag.Int64("disconnect-after", 0, "drop the connection after this many file bytes (sent in a backup, received in a restore)")
	ios := flag.String("ios", "", "iOS version the device runs (default: the backup's Product Version)")
	findMy := flag.Bool("find-my", false, "Find My is on: Restore fails with MBErrorDomain 211")
	rejectPw := flag.Bool("reject-password", false, "Restore of an encrypted backup fails with 207 (invalid password)")
	hostile := flag.String("hostile", "", "comma-separated host paths to try to upload to")
	flag.Parse()
	if *socket == "" || *from == "" {
		fmt.Fprintln(os.Stderr, "usage: devicesim --socket PATH --udid UDID --from BACKUP_DIR")
		os.Exit(2)
	}
	cfg := devicesim.Config{
		UDID: *udid, Source: *from, ServiceSSL: *ssl, ProductVersion: *ios, Password: os.Getenv("DEVICESIM_PASSWORD"),
		Faults: devicesim.Faults{
			Locked: *locked, Unpaired: *unpaired, TrustPrompts: *trust,
			PasscodeWait: *wait, DisconnectAfter: *cut, FindMy: *findMy, RejectPassword: *rejectPw,
		},
	}
	if *hostile != "" {
		cfg.HostilePaths = strings.Split(*hostile, ",")
	}
	if *verbose {
		cfg.Log = os.Stderr
	}
	sim, err := devicesim.Start(*socket, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("devicesim ready: socket=%s udid=%s from=%s (go-ios: USBMUXD_SOCKET_ADDRESS=unix://%s; libimobiledevice: USBMUXD_SOCKET_ADDRESS=UNIX:%s)\n",
		sim.Socket(), sim.UDID(), *from, sim.Socket(), sim.Socket())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	done := make(chan struct{})
	go func() { sim.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
