package main

import (
	"errors"
	"fmt"
	"os"
	"path"

	"github.com/spf13/cobra"

	"iosbackup/backup"
)

func newExtractCmd() *cobra.Command {
	var (
		u            unlockFlags
		domain       string
		overwrite    bool
		skipExisting bool
		quiet        bool
		windowsNames bool
	)
	cmd := &cobra.Command{
		Use:   "extract BACKUP DEST [PATH]",
		Short: "Copy files out of a backup into DEST/<Domain>/<path> (for machines without FUSE)",
		Long: `Copy files out of a backup into DEST/<Domain>/<path>, decrypting them, and keep their
modification times and modes. PATH takes the forms ls and cat take: DOMAIN,
DOMAIN/PATH or a device path (/var/mobile/Library/SMS), and brings everything below
it. Otherwise it is a glob (path.Match syntax, '*' stays within one folder) over the
paths inside each domain that --domain selects: a matching folder brings everything
below it. A PATH or --domain that matches nothing is an error.

Files already in DEST are left alone and reported: --skip-existing leaves them
silently (to finish an interrupted extract), --overwrite replaces them.

This is the one command that writes decrypted data to disk: only where you ask.

On Windows (or with --windows-names, e.g. onto an NTFS or exFAT disk) a name Windows
cannot store is renamed, and the summary says how many: a reserved device name gets
"_" (CON_, aux_.log), a character Windows refuses or a trailing dot or space becomes
%XX (what%3F.txt), and of names differing only in case the later get " (2)", " (3)".

Manifest rows left out of the backup's tree (damaged records, duplicates, hostile
names: 'iosbackup info' lists them) are counted in the summary; when any of them
matches what was asked, extract exits with status 1 after writing everything else.`,
		Example: `  iosbackup extract 00008030 ./out HomeDomain/Library/SMS
  iosbackup extract 00008030 ./out /var/mobile/Media/DCIM
  iosbackup extract 00008030 ./out --domain CameraRollDomain 'Media/DCIM'
  iosbackup extract ~/backup ./out --domain 'AppDomain-*'`,
		Args: rangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if overwrite && skipExisting {
				return usageError{errors.New("--overwrite and --skip-existing: choose one")}
			}
			if domain != "" {
				if _, err := path.Match(domain, ""); err != nil {
					return usageError{fmt.Errorf("--domain %q: %w", domain, err)}
				}
			}
			b, err := openBackup(args[0], &u)
			if err != nil {
				return err
			}
			opt := backup.ExtractOptions{DomainGlob: domain, WindowsNames: windowsNames, Warn: func(s string) { warnf("%s", s) }}
			switch {
			case overwrite:
				opt.Existing = backup.ExistingOverwrite
			case skipExisting:
				opt.Existing = backup.ExistingSkip
			}
			arg := ""
			if len(args) == 3 {
				arg = args[2]
			}
			if err := opt.Select(b.Index, arg); err != nil {
				if errors.Is(err, path.ErrBadPattern) {
					return usageError{err}
				}
				return err
			}
			st, err := b.Extract(args[1], opt)
			if !quiet || err != nil {
				skipped := ""
				if st.Skipped > 0 {
					skipped = fmt.Sprintf(", %d already there left as they were", st.Skipped)
				}
				fmt.Fprintf(os.Stderr, "extracted %d files (%s), %d folders, %d symlinks into %s%s\n",
					st.Files, humanBytes(st.Bytes), st.Dirs, st.Links, args[1], skipped)
				if st.LinksNotMade > 0 {
					fmt.Fprintf(os.Stderr, "left out %s: Windows makes them only in Developer Mode or for an administrator\n",
						plural(st.LinksNotMade, "symlink", "symlinks"))
				}
				if st.Renamed > 0 {
					fmt.Fprintf(os.Stderr, "renamed %s Windows cannot store (%s as %s, ...): reserved names get _, refused characters %%XX, names differing only in case (2)\n",
						plural(st.Renamed, "entry", "entries"), st.FirstRenamed, st.FirstRenamedTo)
				}
			}
			var exists *backup.ExistsError
			if errors.As(err, &exists) {
				them := "them"
				if exists.Count == 1 {
					them = "it"
				}
				return fmt.Errorf("%s: %w: --skip-existing to leave %s, --overwrite to replace %s", args[1], exists, them, them)
			}
			if err != nil {
				return err
			}
			dropped := droppedMatching(b, opt)
			if !quiet || dropped > 0 { // even with -q when it sets the exit status
				warnDropped(b)
			}
			switch {
			case st.Failed > 0 && dropped > 0:
				return fmt.Errorf("%d files could not be extracted (see above), and %s of the manifest that match were left out", st.Failed, plural(dropped, "row", "rows"))
			case st.Failed > 0:
				return fmt.Errorf("%d files could not be extracted (see above)", st.Failed)
			case dropped > 0:
				return fmt.Errorf("%s of the manifest that match were left out, not extracted (see above)", plural(dropped, "row", "rows"))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&domain, "domain", "", "only domains matching `GLOB` (e.g. HomeDomain, 'AppDomain-*')")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace files that already exist in DEST")
	cmd.Flags().BoolVar(&skipExisting, "skip-existing", false, "leave files that already exist in DEST as they are")
	cmd.Flags().BoolVar(&windowsNames, "windows-names", false, "rename what Windows cannot store, as on Windows (for an NTFS or exFAT DEST)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no summary line")
	u.register(cmd)
	return cmd
}
