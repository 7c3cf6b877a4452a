package main

import (
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// complete runs the real binary's hidden `__complete` (what the shell scripts of
// `iosbackup completion` call) and returns the completions, without descriptions, and
// the directive line (":4" and so on).
func complete(t *testing.T, env []string, args ...string) (values, descs []string, directive string) {
	t.Helper()
	out, err := cli(t, env, append([]string{"__complete"}, args...)...)
	if err != nil {
		t.Fatalf("__complete %q: %v\n%s", args, err, out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			directive = line
		case strings.HasPrefix(line, "Completion ended with directive"), line == "":
		default:
			v, d, _ := strings.Cut(line, "\t")
			values, descs = append(values, v), append(descs, d)
		}
	}
	return values, descs, directive
}

// childrenIn is what the generator wrote one level below domain/dir: names with a "/"
// after folders, each prefixed by "domain/dir/".
func childrenIn(truth *gen.Truth, domain, dir string) []string {
	var want []string
	for _, e := range truth.Entries {
		if e.Domain != domain || e.Path == "" || path.Dir(e.Path) != dir && !(dir == "" && !strings.Contains(e.Path, "/")) {
			continue
		}
		s := domain + "/" + e.Path
		if e.Kind == manifest.KindDir {
			s += "/"
		}
		want = append(want, s)
	}
	sort.Strings(want)
	return want
}

func domainsOfTruth(truth *gen.Truth, suffix string) []string {
	seen := map[string]bool{}
	var want []string
	for _, e := range truth.Entries {
		if !seen[e.Domain] {
			seen[e.Domain] = true
			want = append(want, e.Domain+suffix)
		}
	}
	sort.Strings(want)
	return want
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// TestCompletion completes, against generated backups in a root given by --root:
// backup names (described by device name), domains, paths one folder at a time, the
// --domain flag, and folders for DEST and MOUNTPOINT; an encrypted backup completes
// with a key file and, without one, says why instead of asking for the password.
func TestCompletion(t *testing.T) {
	isolate(t)
	root := t.TempDir()
	plainDir := filepath.Join(root, "00008030-00000000000000AA")
	encDir := filepath.Join(root, "00008101-00000000000000BB")
	plain := genBackup(t, plainDir, gen.Options{Seed: 71, Entries: 300, DeviceName: "Alpha Phone"})
	enc := genBackup(t, encDir, gen.Options{Seed: 72, Entries: 100, Encrypted: true, Password: "pw", DeviceName: "Beta Pad"})
	r := "--root=" + root

	t.Run("backup names", func(t *testing.T) {
		got, descs, _ := complete(t, nil, "ls", r, "")
		if want := []string{filepath.Base(plainDir), filepath.Base(encDir)}; !slices.Equal(sorted(got), want) {
			t.Errorf("ls BACKUP: %q, want %q", got, want)
		}
		if d := strings.Join(descs, "|"); !strings.Contains(d, "Alpha Phone") || !strings.Contains(d, "Beta Pad") {
			t.Errorf("descriptions %q do not name the devices", descs)
		}
		for _, cmd := range []string{"info", "key", "cat", "extract", "mount"} {
			if got, _, _ := complete(t, nil, cmd, r, "00008101"); !slices.Equal(got, []string{filepath.Base(encDir)}) {
				t.Errorf("%s 00008101<TAB>: %q, want only %s", cmd, got, filepath.Base(encDir))
			}
		}
		// IOSBACKUP_ROOT, the default root, works as --root does.
		if got, _, _ := complete(t, []string{"IOSBACKUP_ROOT=" + root}, "info", "00008030"); !slices.Equal(got, []string{filepath.Base(plainDir)}) {
			t.Errorf("info with IOSBACKUP_ROOT: %q", got)
		}
		// A path being typed completes as folders (directive 16: filter dirs).
		if got, _, dir := complete(t, nil, "ls", r, "./"); len(got) != 0 || dir != ":16" {
			t.Errorf("ls ./<TAB>: %q %s, want folder completion (:16)", got, dir)
		}
	})

	t.Run("domains and paths", func(t *testing.T) {
		b := filepath.Base(plainDir)
		got, _, dir := complete(t, nil, "ls", r, b, "")
		if want := domainsOfTruth(plain, "/"); !slices.Equal(sorted(got), want) {
			t.Errorf("ls B <TAB>: %q\nwant %q", got, want)
		}
		if dir != ":6" { // no file completion, no space after "Domain/"
			t.Errorf("directive %s, want :6", dir)
		}
		got, _, _ = complete(t, nil, "cat", r, b, "HomeDomain/")
		if want := childrenIn(plain, "HomeDomain", ""); len(want) == 0 || !slices.Equal(sorted(got), want) {
			t.Errorf("cat B HomeDomain/<TAB>: %q\nwant %q", got, want)
		}
		// Two levels down, with a prefix of the last name.
		got, _, _ = complete(t, nil, "extract", r, b, t.TempDir(), "HomeDomain/Library/SMS/s")
		var want []string
		for _, w := range childrenIn(plain, "HomeDomain", "Library/SMS") {
			if strings.HasPrefix(w, "HomeDomain/Library/SMS/s") {
				want = append(want, w)
			}
		}
		if len(want) == 0 || !slices.Equal(sorted(got), want) {
			t.Errorf("extract B DEST HomeDomain/Library/SMS/s<TAB>: %q, want %q", got, want)
		}
		got, _, _ = complete(t, nil, "extract", r, b, "--domain", "Home")
		if !slices.Equal(got, []string{"HomeDomain"}) {
			t.Errorf("extract B --domain Home<TAB>: %q, want [HomeDomain]", got)
		}
		for _, cmd := range [][]string{{"extract", r, b, ""}, {"mount", r, b, ""}} {
			if got, _, dir := complete(t, nil, cmd...); len(got) != 0 || dir != ":16" {
				t.Errorf("%s<TAB>: %q %s, want folder completion (:16)", strings.Join(cmd, " "), got, dir)
			}
		}
	})

	t.Run("encrypted", func(t *testing.T) {
		b := filepath.Base(encDir)
		got, _, _ := complete(t, nil, "ls", r, b, "")
		if len(got) != 1 || !strings.HasPrefix(got[0], "_activeHelp_ ") || !strings.Contains(got[0], "saved key") {
			t.Errorf("encrypted, no key: %q, want only a help line about the key", got)
		}
		keyFile := filepath.Join(t.TempDir(), "key.hex")
		if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(enc.DerivedKey)), 0o600); err != nil {
			t.Fatal(err)
		}
		got, _, _ = complete(t, nil, "ls", r, "--key-file", keyFile, b, "")
		if want := domainsOfTruth(enc, "/"); !slices.Equal(sorted(got), want) {
			t.Errorf("encrypted with --key-file: %q\nwant %q", got, want)
		}
	})
}
