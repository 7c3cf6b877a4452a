package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"iosbackup/backup"
	"iosbackup/manifest"
)

// Shell completion (cobra's `iosbackup completion bash|zsh|fish|powershell`): backup
// names from the root (--root, IOSBACKUP_ROOT or the default), then the backup's
// domains and paths. The functions are attached here, by command name, so the commands
// themselves stay about what they do.

// argKind is what a positional argument holds, for completion.
type argKind int

const (
	argNone       argKind = iota
	argBackup             // BACKUP: a backup of the root, or a folder
	argDomainPath         // DOMAIN[/PATH] inside the backup of the first argument
	argDir                // a folder of this machine (DEST, MOUNTPOINT)
)

// completedArgs says, per command, what each positional argument is.
var completedArgs = map[string][]argKind{
	"ls":      {argBackup, argDomainPath},
	"cat":     {argBackup, argDomainPath},
	"extract": {argBackup, argDir, argDomainPath},
	"info":    {argBackup},
	"key":     {argBackup},
	"mount":   {argBackup, argDir},
	"verify":  {argBackup},
	"diff":    {argBackup, argBackup},
	"restore": {argBackup},
}

// addCompletions attaches the argument (and --domain) completion to root's commands.
func addCompletions(root *cobra.Command) {
	for _, cmd := range root.Commands() {
		kinds, ok := completedArgs[cmd.Name()]
		if !ok {
			continue
		}
		cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) >= len(kinds) {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			switch kinds[len(args)] {
			case argBackup:
				return completeBackup(cmd, toComplete)
			case argDomainPath:
				return completeDomainPath(cmd, args[0], toComplete)
			case argDir:
				return nil, cobra.ShellCompDirectiveFilterDirs
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if cmd.Flags().Lookup("domain") != nil {
			_ = cmd.RegisterFlagCompletionFunc("domain", func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) == 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return completeDomains(cmd, args[0], toComplete, "")
			})
		}
	}
}

// completeBackup offers the backups of the root by folder name (the UDID), described
// by device name, model, iOS and date; a path being typed completes as folders.
func completeBackup(cmd *cobra.Command, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.ContainsRune(toComplete, os.PathSeparator) || strings.HasPrefix(toComplete, ".") || strings.HasPrefix(toComplete, "~") {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	all, err := backup.ScanRoots(flagUnlock(cmd).rootDirs(), false)
	if err != nil {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	var out []cobra.Completion
	for _, s := range all {
		name := filepath.Base(s.Dir)
		if !strings.HasPrefix(strings.ToLower(name), strings.ToLower(toComplete)) {
			continue
		}
		// "Alpha Phone (iPhone12,1, iOS 14.8) 2022-05-29 23:30"
		desc := s.DeviceName
		if model := strings.Join(nonEmpty(s.ProductType, iosVersion(s.ProductVersion)), ", "); model != "" {
			desc += " (" + model + ")"
		}
		if !s.Date.IsZero() {
			desc += " " + s.Date.Local().Format("2006-01-02 15:04")
		}
		out = append(out, cobra.CompletionWithDesc(name, strings.TrimSpace(desc)))
	}
	if len(out) == 0 {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeDomainPath completes DOMAIN[/PATH] in the backup named by arg: the domains
// (each with a "/" after it), then one folder level at a time.
func completeDomainPath(cmd *cobra.Command, arg, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	b, err := openForCompletion(cmd, arg)
	if err != nil {
		return cobra.AppendActiveHelp(nil, err.Error()), cobra.ShellCompDirectiveNoFileComp
	}
	domain, rest, inDomain := strings.Cut(strings.TrimPrefix(toComplete, "/"), "/")
	if !inDomain {
		return domainsOf(b, domain, "/")
	}
	dirPath, prefix := "", rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		dirPath, prefix = rest[:i], rest[i+1:]
	}
	dir, ok := b.Index.Lookup(domain, dirPath)
	if dirPath == "" {
		dir, ok = b.Index.DomainRoot(domain)
	}
	if !ok || b.Index.Entry(dir).Kind != manifest.KindDir {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	base := domain + "/"
	if dirPath != "" {
		base += dirPath + "/"
	}
	var out []cobra.Completion
	for _, c := range b.Index.Children(dir) {
		name := b.Index.Name(c)
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		if b.Index.Entry(c).Kind == manifest.KindDir {
			name += "/"
		}
		out = append(out, base+name)
	}
	// A folder completes with its "/" and no space, so the next level follows.
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeDomains offers the domains of the backup named by arg.
func completeDomains(cmd *cobra.Command, arg, toComplete, suffix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	b, err := openForCompletion(cmd, arg)
	if err != nil {
		return cobra.AppendActiveHelp(nil, err.Error()), cobra.ShellCompDirectiveNoFileComp
	}
	return domainsOf(b, toComplete, suffix)
}

func domainsOf(b *backup.Backup, prefix, suffix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, d := range b.Index.Domains() {
		if strings.HasPrefix(d, prefix) {
			out = append(out, d+suffix)
		}
	}
	dir := cobra.ShellCompDirectiveNoFileComp
	if suffix != "" {
		dir |= cobra.ShellCompDirectiveNoSpace
	}
	return out, dir
}

// errNoPromptWhileCompleting: completion runs under the shell's line editor, where a
// password prompt would hang it. An encrypted backup completes with a saved key,
// --key-file, IOSBACKUP_KEY, --password-file or IOSBACKUP_PASSWORD.
var errNoPromptWhileCompleting = errors.New("encrypted backup: completing its paths needs a saved key ('iosbackup key --save'), --key-file or IOSBACKUP_KEY")

// openForCompletion opens the backup named by arg with the command's unlock flags,
// never asking for a password and printing no warning.
func openForCompletion(cmd *cobra.Command, arg string) (*backup.Backup, error) {
	u := flagUnlock(cmd)
	dir, err := backup.ResolveIn(arg, u.rootDirs())
	if err != nil {
		return nil, err
	}
	opt, err := u.options()
	if err != nil {
		return nil, err
	}
	opt.Warn = func(string) {}
	opt.Password = func() ([]byte, error) {
		_, fromEnv := os.LookupEnv("IOSBACKUP_PASSWORD")
		if (u.passwordFile == "" || u.passwordFile == "-") && !fromEnv {
			return nil, errNoPromptWhileCompleting
		}
		return u.password()
	}
	b, err := backup.Open(dir, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return b, nil
}

// flagUnlock reads the unlock flags of cmd by name: completion runs after cobra has
// parsed them, but outside the command's RunE that holds them.
func flagUnlock(cmd *cobra.Command) *unlockFlags {
	f := cmd.Flags()
	var u unlockFlags
	u.passwordFile, _ = f.GetString("password-file")
	u.keyHex, _ = f.GetString("key")
	u.keyFile, _ = f.GetString("key-file")
	u.noSavedKey, _ = f.GetBool("no-saved-key")
	u.root, _ = f.GetString("root")
	return &u
}

func iosVersion(v string) string {
	if v == "" {
		return ""
	}
	return "iOS " + v
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
