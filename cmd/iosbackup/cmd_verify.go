package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"iosbackup/backup"
)

func newVerifyCmd() *cobra.Command {
	var (
		u      unlockFlags
		quick  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "verify BACKUP",
		Short: "Check that a backup would restore: plists, manifest, every blob, every database inside",
		Long: `Check that a backup would restore, before the day it matters: Info, Manifest and
Status plists present, parsing, and saying the backup completed; every file row has its
blob; an encrypted blob is a multiple of 16 bytes and decrypts with valid padding with
the key its row wraps; recorded SHA-1 digests match; every SQLite database inside passes
PRAGMA quick_check (read through the decrypting reader, never written to disk); symlink
and directory rows are sane. In a snapshot (history), every file still is what the
snapshot recorded when it was taken.

One line per problem names the domain/path and fileID; a summary follows.
--quick checks the structure without decrypting or reading contents.

Exit status: 0 sound, 1 problems found, 2 trouble running (not a backup, no key...).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := backup.ResolveIn(args[0], u.rootDirs())
			if err != nil {
				return troubleError{err}
			}
			opt, err := u.options()
			if err != nil {
				return troubleError{err}
			}
			snap, err := snapshotRecord(dir)
			if err != nil {
				return troubleError{err}
			}
			var bar *byteProgress
			if !asJSON && isTerminal(os.Stderr) {
				bar = newByteProgress(os.Stderr, "verifying")
			}
			vo := backup.VerifyOptions{Quick: quick, Snapshot: snap}
			if bar != nil {
				vo.Progress = bar
			}
			rep, err := backup.Verify(dir, opt, vo)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return troubleError{err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := writeVerifyJSON(out, rep); err != nil {
					return troubleError{err}
				}
			} else {
				writeVerifyText(out, rep)
			}
			if !rep.Sound() {
				return exitStatus(1)
			}
			return nil
		},
	}
	u.register(cmd)
	cmd.Flags().BoolVar(&quick, "quick", false, "check structure only, without decrypting or reading contents")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func writeVerifyText(w io.Writer, rep *backup.VerifyReport) {
	for _, p := range rep.Problems {
		fmt.Fprintln(w, p.String())
	}
	mode := "full"
	if rep.Quick {
		mode = "quick"
	}
	verdict := "sound"
	if !rep.Sound() {
		verdict = fmt.Sprintf("%d problems", len(rep.Problems))
	}
	fmt.Fprintf(w, "%s: %s (%s verify of %d files, %d folders, %d symlinks; %d digests, %d databases checked; %s read in %s)\n",
		rep.Dir, verdict, mode, rep.Files, rep.Dirs, rep.Symlinks, rep.Digests, rep.Databases,
		humanBytes(rep.Bytes), rep.Elapsed.Round(time.Millisecond))
}

func writeVerifyJSON(w io.Writer, rep *backup.VerifyReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(verifyToJSON(rep))
}
