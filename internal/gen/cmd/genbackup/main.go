// Command genbackup writes a synthetic iOS backup (see package iosbackup/internal/gen).
//
//	go run ./internal/gen/cmd/genbackup -out DIR [-format db|mbdb] [-encrypted]
//	    [-entries N] [-big SIZE] [-seed N] [-revision N] [-kdf fast|real]
//
// The password of an encrypted backup comes from IOSBACKUP_PASSWORD, never from the
// command line; without it the sample gets the password "demo".
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"iosbackup/internal/gen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genbackup:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("genbackup", flag.ContinueOnError)
	out := fs.String("out", "", "output folder (must not exist or be empty)")
	format := fs.String("format", "db", "layout: db (iOS 10+, Manifest.db) or mbdb (iOS 5-9, Manifest.mbdb)")
	encrypted := fs.Bool("encrypted", false, "encrypt the backup (password from IOSBACKUP_PASSWORD, default \"demo\")")
	entries := fs.Int("entries", 0, "number of manifest rows (0: the fixed content only, about 110)")
	big := fs.String("big", "0", "add MediaDomain Media/Recordings/big.mov of this size (e.g. 3G, 500M)")
	seed := fs.Int64("seed", 1, "seed: the same seed gives the same backup")
	revision := fs.Int("revision", 0, "revision of the same device: r > 0 changes, adds and removes a few files")
	kdf := fs.String("kdf", "real", "key derivation rounds: real (10,000,000 + 10,000: seconds) or fast (1,000 + 10)")
	ios := fs.String("ios", "", "iOS version (ProductVersion, e.g. 12.5.7, 16.7, 18.1): the databases get its schemas")
	messages := fs.Int("messages", 0, "number of ordinary messages in sms.db (0: a dozen or so)")
	omitFiller := fs.Bool("omit-filler-blobs", false, "write filler rows without their blobs (cheap huge manifests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("-out is required and no arguments are taken")
	}
	opt := gen.Options{
		Seed: *seed, Encrypted: *encrypted, Entries: *entries, Revision: *revision,
		OmitFillerBlobs: *omitFiller, ProductVersion: *ios, Messages: *messages,
	}
	switch *format {
	case "db":
		opt.Format = gen.FormatDB
	case "mbdb":
		opt.Format = gen.FormatMBDB
	default:
		return fmt.Errorf("-format %q: want db or mbdb", *format)
	}
	switch *kdf {
	case "real":
	case "fast":
		opt.SHA256Rounds, opt.SHA1Rounds = 1000, 10
	default:
		return fmt.Errorf("-kdf %q: want fast or real", *kdf)
	}
	size, err := parseSize(*big)
	if err != nil {
		return fmt.Errorf("-big: %w", err)
	}
	opt.BigFileSize = size
	if opt.Encrypted {
		opt.Password = os.Getenv("IOSBACKUP_PASSWORD")
		if opt.Password == "" {
			opt.Password = "demo"
			fmt.Fprintln(os.Stderr, "genbackup: IOSBACKUP_PASSWORD is not set: using the password \"demo\" (this is a synthetic sample, not a secret)")
		}
	}
	t, err := gen.Generate(*out, opt)
	if err != nil {
		return err
	}
	synthetic := len(t.Entries) - t.Rows
	enc := "unencrypted"
	if t.Encrypted {
		enc = "encrypted (kdf " + *kdf + ")"
	}
	fmt.Printf("genbackup: wrote %s: format %s, %s, seed %d, revision %d, %d rows (+%d parent dirs without a row), %s of blobs, in %s\n",
		*out, t.Format, enc, t.Seed, t.Revision, t.Rows, synthetic, humanBytes(t.BlobBytes), t.Elapsed.Round(1e6))
	return nil
}

// parseSize accepts a byte count with an optional K, M or G suffix (powers of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	u := strings.ToUpper(strings.TrimSuffix(strings.ToUpper(s), "B"))
	switch {
	case strings.HasSuffix(u, "K"):
		mult, u = 1<<10, strings.TrimSuffix(u, "K")
	case strings.HasSuffix(u, "M"):
		mult, u = 1<<20, strings.TrimSuffix(u, "M")
	case strings.HasSuffix(u, "G"):
		mult, u = 1<<30, strings.TrimSuffix(u, "G")
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with K, M or G", s)
	}
	return n * mult, nil
}

// humanBytes uses the IEC units every iosbackup tool prints (go-humanize's IBytes).
func humanBytes(n int64) string {
	return humanize.IBytes(uint64(max(n, 0)))
}
