package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"iosbackup/artifacts/export"
	"iosbackup/backup"
)

// exportFlags are the flags every export subcommand shares.
type exportFlags struct {
	u            unlockFlags
	since, until string
	conversation string
	format       string
	quiet        bool
}

func newExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export messages|contacts|calls|photos BACKUP DEST",
		Short: "Write messages, contacts, calls or photos from a backup as ordinary files into DEST",
		Long: `Write people's data from a backup as ordinary files into DEST (created if needed),
for machines without FUSE. Nothing outside DEST is written; files already in DEST are
never replaced.

  messages  DEST/messages/<conversation>/messages.txt and messages.html (--format
            txt,html,json), attachments/ beside them named "<date> <name>"
  contacts  DEST/contacts/<Full Name>.vcf and all.vcf (vCard 4.0)
  calls     DEST/calls/calls.csv
  photos    DEST/photos/YYYY/YYYY-MM-DD/<file>, each file's mtime its creation date

--since and --until take a date (2024-05-31, local time; --until includes that day)
or an RFC 3339 time.`,
		Example: `  iosbackup export messages 00008030 ./out --since 2024-01-01
  iosbackup export messages ~/backup ./out --conversation "Alice Martin" --format html
  iosbackup export photos ~/backup ./out`,
	}
	cmd.AddCommand(newExportMessagesCmd(),
		newExportSimpleCmd("contacts", "Contacts as vCard 4.0 files", "contacts", export.Contacts, false),
		newExportSimpleCmd("calls", "The call history as calls.csv", "calls", export.Calls, true),
		newExportSimpleCmd("photos", "Photos and videos by date and album, with their creation times", "photos", export.Photos, false))
	return cmd
}

// exportFunc is one of the export package's writers.
type exportFunc func(context.Context, *backup.Backup, string, export.Options) (export.Stats, error)

// newExportSimpleCmd makes the contacts, calls and photos subcommands: no format or
// conversation to choose. names says whether the address book names the items.
func newExportSimpleCmd(what, short, unit string, run exportFunc, names bool) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   what + " BACKUP DEST",
		Short: short,
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt, finish, err := f.options(what)
			if err != nil {
				return err
			}
			b, err := openBackup(args[0], &f.u)
			if err != nil {
				return err
			}
			if names {
				opt.Names = contactNames(b)
			}
			st, err := run(context.Background(), b, args[1], opt)
			finish()
			if err != nil {
				return err
			}
			if !f.quiet {
				fmt.Fprintf(os.Stderr, "exported %d %s (%d files, %s) into %s%s\n",
					st.Items, unit, st.Files, humanBytes(st.Bytes), args[1], notes(st))
			}
			return nil
		},
	}
	f.register(cmd, "")
	return cmd
}

func (f *exportFlags) register(cmd *cobra.Command, formats string) {
	cmd.Flags().StringVar(&f.since, "since", "", "only items from `DATE` on")
	cmd.Flags().StringVar(&f.until, "until", "", "only items up to `DATE` (that whole day for a date)")
	if formats != "" {
		cmd.Flags().StringVar(&f.format, "format", "", "comma-separated `FORMATS`: "+formats)
	}
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar or summary line")
	f.u.register(cmd)
}

// options turns the flags into export options, with a progress bar on a terminal.
func (f *exportFlags) options(what string) (export.Options, func(), error) {
	var opt export.Options
	var err error
	if opt.Since, err = parseDate(f.since, false); err != nil {
		return opt, nil, usageError{fmt.Errorf("--since: %w", err)}
	}
	if opt.Until, err = parseDate(f.until, true); err != nil {
		return opt, nil, usageError{fmt.Errorf("--until: %w", err)}
	}
	if f.format != "" {
		opt.Formats = strings.Split(f.format, ",")
	}
	opt.Conversation = f.conversation
	finish := func() {}
	if !f.quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		var bar *progressbar.ProgressBar
		opt.Progress = func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(os.Stderr),
					progressbar.OptionSetDescription("exporting "+what), progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish())
			}
			bar.Set64(done)
		}
		finish = func() {
			if bar != nil {
				bar.Finish()
			}
		}
	}
	return opt, finish, nil
}

// parseDate reads a local date or an RFC 3339 time; end moves a date to the start of
// the next day, so --until includes the day it names.
func parseDate(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a date (2024-05-31) or an RFC 3339 time", s)
	}
	return t, nil
}

func newExportMessagesCmd() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "messages BACKUP DEST",
		Short: "Conversations as text, HTML or JSON, with their attachments",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt, finish, err := f.options("messages")
			if err != nil {
				return err
			}
			for _, format := range opt.Formats {
				if !slices.Contains(export.MessageFormats, format) {
					return usageError{fmt.Errorf("--format %q: want %s", format, strings.Join(export.MessageFormats, ", "))}
				}
			}
			b, err := openBackup(args[0], &f.u)
			if err != nil {
				return err
			}
			opt.Names = contactNames(b)
			st, err := export.Messages(context.Background(), b, args[1], opt)
			finish()
			if err != nil {
				return err
			}
			if !f.quiet {
				fmt.Fprintf(os.Stderr, "exported %d messages in %d conversations (%d files, %s) into %s%s\n",
					st.Records, st.Items, st.Files, humanBytes(st.Bytes), args[1], notes(st))
			}
			return nil
		},
	}
	f.register(cmd, "txt, html, json (default txt,html)")
	cmd.Flags().StringVar(&f.conversation, "conversation", "", "only the conversation `NAME` (folder name, phone, email or contact name)")
	return cmd
}

// notes reports what the export could not bring along.
func notes(st export.Stats) string {
	var parts []string
	if st.Missing > 0 {
		parts = append(parts, fmt.Sprintf("%d files the database names are not in the backup", st.Missing))
	}
	if st.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d unreadable rows skipped", st.Skipped))
	}
	if st.Damaged > 0 {
		parts = append(parts, fmt.Sprintf("%d message bodies could not be decoded", st.Damaged))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}
