package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"iosbackup/decrypt/speed"
)

// speedKDFRounds is what `speed` measures of the KDF: a tenth of a real keybag's
// 10,000,000 rounds, extrapolated (the cost is linear in the rounds), so the command
// takes seconds, not tens of seconds, on a slow machine.
const speedKDFRounds = 1_000_000

func newSpeedCmd() *cobra.Command {
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "speed",
		Short: "Measure this machine's decryption and password-unlock speed (a few seconds)",
		Long: `Measure, on one core of this machine, the two computations that set iosbackup's speed
on encrypted backups, each against Go's standard library:

  - AES-256-CBC decryption of file contents (64 KiB at a time, as a mount reads);
  - the password key derivation of iOS 10.2+ backups (PBKDF2-HMAC-SHA256 with
    10,000,000 rounds), timed over 1,000,000 rounds and multiplied by 10.

Both implementations are first checked against the standard library on the same input:
a fast wrong answer is reported as an error, not as a speed.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if duration <= 0 || duration > time.Minute {
				return usageError{fmt.Errorf("--duration %v: want more than 0 and at most 1m", duration)}
			}
			if err := speed.CheckCBC(); err != nil {
				return fmt.Errorf("self-check: %w", err)
			}
			if err := speed.CheckKDF(); err != nil {
				return fmt.Errorf("self-check: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s/%s, %d CPUs; one core used\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())

			fmt.Fprintln(out, "AES-256-CBC decryption of file contents (64 KiB at a time):")
			ours, err := speed.MeasureCBC(speed.CBCOurs, 64<<10, duration)
			if err != nil {
				return err
			}
			std, err := speed.MeasureCBC(speed.CBCStdlib, 64<<10, duration)
			if err != nil {
				return err
			}
			// MeasureCBC counts in MB (10^6 bytes); shown in the IEC units of every command.
			fmt.Fprintf(out, "  iosbackup  %9s/s\n", humanBytes(int64(ours*1e6)))
			fmt.Fprintf(out, "  Go stdlib  %9s/s   (iosbackup: %.1fx)\n\n", humanBytes(int64(std*1e6)), ours/std)

			fmt.Fprintf(out, "Password unlock, iOS 10.2+ (PBKDF2-HMAC-SHA256, %d rounds; timed over %d):\n",
				speed.RealSHA256Rounds, speedKDFRounds)
			scale := float64(speed.RealSHA256Rounds) / speedKDFRounds
			kOurs, err := speed.MeasureKDF(speed.KDFOurs, speedKDFRounds)
			if err != nil {
				return err
			}
			kStd, err := speed.MeasureKDF(speed.KDFStdlib, speedKDFRounds)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  iosbackup  %8.2f s\n", kOurs.Seconds()*scale)
			fmt.Fprintf(out, "  Go stdlib  %8.2f s      (iosbackup: %.1fx)\n\n", kStd.Seconds()*scale, kStd.Seconds()/kOurs.Seconds())
			fmt.Fprintln(out, "A saved key ('iosbackup key --save', or --key-file) skips the password step entirely.")
			return nil
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", time.Second, "how long to measure each decrypter")
	return cmd
}
