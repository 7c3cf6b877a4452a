// Command benchtool is the small Go side of scripts/bench.sh (`make bench`): what the
// shell cannot do, or not precisely. Each subcommand prints one number on standard
// output (the figure the script records) and details on standard error.
//
//	benchtool dropcache FILE...                  evict files from the page cache
//	benchtool seqread [-buf N] FILE              sequential read: MB/s
//	benchtool randread [-n N] [-bs N] [-seed N] [-size N] [-passes N] FILE
//	                                             random preads at queue depth 1: IOPS
//	benchtool unlock -key-file K [-n N] BACKUP   backup.Open with a derived key: median ms
//	benchtool manifest-decrypt -key-file K BACKUP
//	                                             seconds to decrypt Manifest.db in memory
//	benchtool replace -key-file K -domain D -path P -src FILE BACKUP
//	                                             make D/P of an encrypted backup hold FILE
//	benchtool cbc [-size N] [-time D] ours|stdlib
//	                                             AES-256-CBC decryption on one core: MB/s
//	benchtool heap [-key-file K] BACKUP          what the loaded index holds: live MiB
//
// Keys are read from files (hex, as `iosbackup key` prints them), never from argv.
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"iosbackup/decrypt/speed"
	"iosbackup/internal/bench"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "dropcache":
		err = dropCache(args)
	case "seqread":
		err = seqRead(args)
	case "randread":
		err = randRead(args)
	case "unlock":
		err = unlock(args)
	case "manifest-decrypt":
		err = manifestDecrypt(args)
	case "replace":
		err = replace(args)
	case "cbc":
		err = cbc(args)
	case "heap":
		err = heap(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool "+cmd+":", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchtool dropcache|seqread|randread|unlock|manifest-decrypt|replace|cbc|heap ... (see the package comment)")
	os.Exit(2)
}

// parse parses args with fs and insists on exactly nargs positional arguments.
func parse(fs *flag.FlagSet, args []string, nargs int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if nargs >= 0 && fs.NArg() != nargs {
		return fmt.Errorf("want %d argument(s), got %d", nargs, fs.NArg())
	}
	return nil
}

func readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("-key-file is required")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%s: want a 32-byte key in hex", path)
	}
	return k, nil
}

func dropCache(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no files given")
	}
	for _, p := range args {
		if err := bench.DropCache(p); err != nil {
			return err
		}
	}
	return nil
}

func seqRead(args []string) error {
	fs := flag.NewFlagSet("seqread", flag.ContinueOnError)
	buf := fs.Int("buf", 1<<20, "read size in bytes")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if *buf <= 0 || *buf > 1<<30 {
		return fmt.Errorf("-buf %d out of range", *buf)
	}
	n, el, err := bench.SequentialRead(fs.Arg(0), *buf)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d bytes in %.3f s\n", n, el.Seconds())
	fmt.Printf("%.1f\n", float64(n)/el.Seconds()/1e6)
	return nil
}

func randRead(args []string) error {
	fs := flag.NewFlagSet("randread", flag.ContinueOnError)
	n := fs.Int("n", 20000, "number of reads")
	bs := fs.Int("bs", 4096, "bytes per read (offsets are multiples of it)")
	seed := fs.Uint64("seed", 1, "seed of the offsets: the same seed reads the same places")
	size := fs.Int64("size", 0, "size of the region to read from (0: the file's size)")
	passes := fs.Int("passes", 1, "read the same offsets this many times (a warm run long enough to time)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if *n <= 0 || *n > 100_000_000 || *bs <= 0 || *bs > 1<<30 || *passes <= 0 || *passes > 1000 {
		return fmt.Errorf("-n %d / -bs %d / -passes %d out of range", *n, *bs, *passes)
	}
	path := fs.Arg(0)
	if *size == 0 {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		*size = st.Size()
	}
	offs, err := bench.RandomOffsets(*size, *bs, *n, *seed)
	if err != nil {
		return err
	}
	for range *passes - 1 {
		offs = append(offs, offs[:*n]...)
	}
	r, err := bench.RandomRead(path, *bs, offs)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d reads of %d bytes in %.3f s (%.1f MB/s)\n", r.Reads, *bs, r.Elapsed.Seconds(), r.MBps())
	fmt.Printf("%.0f\n", r.IOPS())
	return nil
}

func unlock(args []string) error {
	fs := flag.NewFlagSet("unlock", flag.ContinueOnError)
	keyFile := fs.String("key-file", "", "derived key (hex)")
	n := fs.Int("n", 7, "number of opens")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if *n <= 0 || *n > 1000 {
		return fmt.Errorf("-n %d out of range", *n)
	}
	kek, err := readKey(*keyFile)
	if err != nil {
		return err
	}
	times, err := bench.UnlockTimes(fs.Arg(0), kek, *n)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "backup.Open with the key: %v\n", times)
	fmt.Printf("%.2f\n", float64(times[len(times)/2])/float64(time.Millisecond))
	return nil
}

func manifestDecrypt(args []string) error {
	fs := flag.NewFlagSet("manifest-decrypt", flag.ContinueOnError)
	keyFile := fs.String("key-file", "", "derived key (hex)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	kek, err := readKey(*keyFile)
	if err != nil {
		return err
	}
	el, n, err := bench.ManifestDecryptTime(fs.Arg(0), kek)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "decrypted %d bytes of Manifest.db in %.3f s\n", n, el.Seconds())
	fmt.Printf("%.3f\n", el.Seconds())
	return nil
}

func replace(args []string) error {
	fs := flag.NewFlagSet("replace", flag.ContinueOnError)
	keyFile := fs.String("key-file", "", "derived key (hex)")
	domain := fs.String("domain", "", "domain of the file to replace")
	path := fs.String("path", "", "path of the file inside its domain")
	src := fs.String("src", "", "file holding the new contents")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	kek, err := readKey(*keyFile)
	if err != nil {
		return err
	}
	f, err := os.Open(*src)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := bench.ReplaceContents(fs.Arg(0), kek, *domain, *path, f); err != nil {
		return err
	}
	fmt.Println("ok")
	return nil
}

func cbc(args []string) error {
	fs := flag.NewFlagSet("cbc", flag.ContinueOnError)
	size := fs.Int("size", 64<<10, "buffer size in bytes")
	d := fs.Duration("time", time.Second, "how long to run")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	impl := speed.CBCOurs
	switch fs.Arg(0) {
	case "ours":
	case "stdlib":
		impl = speed.CBCStdlib
	default:
		return fmt.Errorf("%q: want ours or stdlib", fs.Arg(0))
	}
	if err := speed.CheckCBC(); err != nil {
		return err
	}
	mbps, err := speed.MeasureCBC(impl, *size, *d)
	if err != nil {
		return err
	}
	fmt.Printf("%.1f\n", mbps)
	return nil
}

// heap opens a backup as a mount does and says what its index keeps live, split into
// the Entry structs and the rest (paths, keys, the index's own arrays): the why of the
// mount's peak RSS.
func heap(args []string) error {
	fs := flag.NewFlagSet("heap", flag.ContinueOnError)
	keyFile := fs.String("key-file", "", "derived key (hex), for an encrypted backup")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	var kek []byte
	if *keyFile != "" {
		var err error
		if kek, err = readKey(*keyFile); err != nil {
			return err
		}
	}
	h, err := bench.IndexHeap(fs.Arg(0), kek)
	if err != nil {
		return err
	}
	const mib = 1 << 20
	fmt.Fprintf(os.Stderr, "live heap after loading %d entries: %.0f MiB = %.0f MiB of Entry structs (%d B each) + %.0f MiB of paths, keys and index\n",
		h.Entries, float64(h.Live)/mib, float64(h.EntryBytes)/mib, h.EntrySize, float64(h.Live-h.EntryBytes)/mib)
	fmt.Printf("%.0f %.0f %d %.0f\n", float64(h.Live)/mib, float64(h.EntryBytes)/mib, h.EntrySize, float64(h.Live-h.EntryBytes)/mib)
	return nil
}
