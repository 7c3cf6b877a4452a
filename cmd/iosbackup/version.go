package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version overrides the module version of the build info when set at build time
// (-ldflags "-X main.version=v1.2.3"), for builds outside the module system.
var version = ""

// buildVersion is what `iosbackup version` and `--version` print, from the build info
// the Go toolchain embeds: the module version (a tag with `go install ...@v1.2.3`,
// "(devel)" in a checkout), the VCS commit, its time and whether the tree had
// uncommitted changes (`go build` records them unless -buildvcs=false), and the Go
// version. It is one line: scripts and bug reports quote it whole.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{GoVersion: runtime.Version()}
	}
	return formatVersion(bi, version, runtime.GOOS+"/"+runtime.GOARCH)
}

// shortVersion is the module version and the commit's first 12 digits, for the
// footer of the man pages.
func shortVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	v, rev, _, _ := versionParts(bi, version)
	if len(rev) > 12 {
		v += " " + rev[:12]
	}
	return v
}

func versionParts(bi *debug.BuildInfo, override string) (v, rev, when, modified string) {
	v = bi.Main.Version
	if override != "" {
		v = override
	}
	if v == "" {
		v = "(unknown)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	return v, rev, when, modified
}

func formatVersion(bi *debug.BuildInfo, override, platform string) string {
	v, rev, when, modified := versionParts(bi, override)
	out := v
	switch {
	case rev != "":
		out += fmt.Sprintf(" commit %s (%s%s)", rev, orUnknown(when), modified)
	default:
		out += " (no commit recorded: built with -buildvcs=false or outside git)"
	}
	return out + ", " + bi.GoVersion + " " + platform
}

func orUnknown(s string) string {
	if s == "" {
		return "time unknown"
	}
	return s
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			// As --version prints it. (A custom SetVersionTemplate would make cobra use
			// text/template, which keeps the linker from dropping unused methods: +3.6 MB.)
			fmt.Fprintln(cmd.OutOrStdout(), "iosbackup version "+buildVersion())
			return nil
		},
	}
}
