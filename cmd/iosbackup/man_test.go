package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// `iosbackup gen-man DIR` (make man) writes one page per visible command, each naming
// the command and its one-line summary, and none for hidden commands.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man")
	if out, err := cli(t, nil, "gen-man", dir); err != nil {
		t.Fatalf("gen-man: %v\n%s", err, out)
	}
	var walk func(c *cobra.Command)
	want := map[string]bool{}
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		page := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		want[page] = true
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("%s: no man page: %v", c.CommandPath(), err)
		} else if s := string(data); !strings.Contains(s, ".TH \"IOSBACKUP\" \"1\"") || !strings.Contains(s, c.Short) {
			t.Errorf("%s: the page lacks the .TH header or the summary %q", page, c.Short)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !want[e.Name()] {
			t.Errorf("unexpected page %s (a hidden command?)", e.Name())
		}
	}
	// Markdown would eat a glob's '*' and an <ARG>: the page shows them as written.
	// (\& is roff's zero-width separator, printed as nothing.)
	data, _ := os.ReadFile(filepath.Join(dir, "iosbackup-extract.1"))
	if text := strings.ReplaceAll(string(data), `\&`, ""); !strings.Contains(text, "'*' stays within one folder") ||
		!strings.Contains(text, "DEST/<Domain>/<path>") {
		t.Errorf("iosbackup-extract.1 lost the '*' or the <Domain> of its text:\n%s", data)
	}
	// The mount's table of folders keeps its layout (a roff example block, not filled).
	data, _ = os.ReadFile(filepath.Join(dir, "iosbackup-mount.1"))
	if !strings.Contains(string(data), ".EX\n  MOUNTPOINT/domains/<Domain>/<path>   every domain") ||
		!strings.Contains(string(data), "\n  MOUNTPOINT/apps/<App name>/          data/, groups/<id>/") {
		t.Errorf("iosbackup-mount.1 does not keep the table of folders as written:\n%s", data)
	}
	if len(want) < 15 || !want["iosbackup-ls.1"] || !want["iosbackup-version.1"] {
		t.Errorf("pages %v: want every command, ls and version among them", want)
	}
}
