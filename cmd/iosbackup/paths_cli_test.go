package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// TestLsCatExtractTakeTheSamePathForms: on the MVT sample, DOMAIN/PATH, /var/... and
// /private/var/... name the same folder for ls and the same file for cat, and extract
// takes them too, copying that subtree only.
func TestLsCatExtractTakeTheSamePathForms(t *testing.T) {
	isolate(t)
	mvt := filepath.Join(samples, "ios14-mvt")
	forms := []string{"HomeDomain/Library/SMS", "/var/mobile/Library/SMS", "/private/var/mobile/Library/SMS"}
	var first string
	for _, f := range forms {
		code, out, errOut := runCLI(t, "ls", "-l", mvt, f)
		if code != 0 || !strings.Contains(out, " sms.db\n") {
			t.Fatalf("ls -l %s: exit %d\n%s%s", f, code, out, errOut)
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Errorf("ls -l %s differs from ls -l %s:\n%s\nvs\n%s", f, forms[0], out, first)
		}
	}
	// The blob of sms.db, from the sample's README: what every form must print.
	smsDB, err := os.ReadFile(filepath.Join(mvt, "3d", "3d0d7e5fb2ce288813306e4d4636395e047a3d28"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range forms {
		code, out, errOut := runCLI(t, "cat", mvt, f+"/sms.db")
		if code != 0 || out != string(smsDB) {
			t.Errorf("cat %s/sms.db: exit %d, %d bytes (want %d), %s", f, code, len(out), len(smsDB), errOut)
		}
	}

	// extract of each form writes HomeDomain/Library/SMS and nothing else.
	_, listing, _ := runCLI(t, "ls", "-R", mvt, "HomeDomain/Library/SMS")
	var wantTree []string
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		wantTree = append(wantTree, "HomeDomain/Library/SMS/"+l)
	}
	sort.Strings(wantTree)
	wantTree = append([]string{"HomeDomain/", "HomeDomain/Library/", "HomeDomain/Library/SMS/"}, wantTree...)
	// The sample's MediaDomain has a Library/SMS folder too (empty): on the device, and
	// in the mount's device/, it is the same /var/mobile/Library/SMS.
	wantDevice := append(append([]string{}, wantTree...), "MediaDomain/", "MediaDomain/Library/", "MediaDomain/Library/SMS/")
	sort.Strings(wantDevice)
	for _, f := range forms {
		dest := t.TempDir()
		code, _, errOut := runCLI(t, "extract", "-q", mvt, dest, f)
		if code != 0 {
			t.Fatalf("extract %s: exit %d %s", f, code, errOut)
		}
		got := treeOf(t, dest)
		want := wantTree
		if strings.HasPrefix(f, "/") {
			want = wantDevice
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("extract %s wrote:\n%s\nwant the SMS folder only:\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		data, err := os.ReadFile(filepath.Join(dest, "HomeDomain", "Library", "SMS", "sms.db"))
		if err != nil || !bytes.Equal(data, smsDB) {
			t.Errorf("extract %s: sms.db %d bytes, %v", f, len(data), err)
		}
	}
}

// treeOf lists every path below dir, folders with a trailing slash, sorted.
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestNothingMatchedIsAnErrorWithDidYouMean: a path, a device path, --domain or a
// glob that matches nothing exits 1 naming it, with the closest name that exists.
func TestNothingMatchedIsAnErrorWithDidYouMean(t *testing.T) {
	isolate(t)
	mvt := filepath.Join(samples, "ios14-mvt")
	dest := t.TempDir()
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"ls", mvt, "/var/mobile/Libary/SMS"}, []string{"/var/mobile/Libary/SMS", "did you mean /var/mobile/Library/SMS?"}},
		{[]string{"ls", mvt, "HomeDomian/Library/SMS"}, []string{`no domain "HomeDomian"`, "did you mean HomeDomain/Library/SMS?"}},
		{[]string{"cat", mvt, "HomeDomain/Library/SMS/sms.dbb"}, []string{"no such file", "did you mean HomeDomain/Library/SMS/sms.db?"}},
		{[]string{"cat", mvt, "/var/mobile/Library/SMS"}, []string{"is a folder"}},
		{[]string{"extract", mvt, dest, "--domain", "NoSuchDomain"}, []string{"--domain NoSuchDomain", "matches no domain"}},
		{[]string{"extract", mvt, dest, "--domain", "HomeDomian"}, []string{"--domain HomeDomian", "did you mean HomeDomain?"}},
		{[]string{"extract", mvt, dest, "HomeDomain/Library/SMX"}, []string{"HomeDomain/Library/SMX", "did you mean HomeDomain/Library/SMS?"}},
		{[]string{"extract", mvt, dest, "/var/mobile/Library/SMX"}, []string{"did you mean /var/mobile/Library/SMS?"}},
		{[]string{"extract", mvt, dest, "--domain", "HomeDomain", "Library/NoSuch*"}, []string{"Library/NoSuch*", "matches no path"}},
		{[]string{"extract", mvt, dest, "--domain", "CameraRollDomain", "HomeDomain/Library/SMS"}, []string{"HomeDomain/Library/SMS", "--domain CameraRollDomain"}},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != exitError {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args[2:], code, exitError, out, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: %q not in\n%s", c.args[2:], w, errOut)
			}
		}
	}
	if ents, _ := os.ReadDir(dest); len(ents) != 0 {
		t.Errorf("failed extracts wrote %v", ents)
	}
	// The old forms still work: --domain with a glob, and DOMAIN/GLOB.
	for _, args := range [][]string{
		{"--domain", "HomeDomain", "Library/SMS"},
		{"HomeDomain/Library/SM?"},
	} {
		d := t.TempDir()
		code, _, errOut := runCLI(t, append([]string{"extract", "-q", mvt, d}, args...)...)
		if _, err := os.Stat(filepath.Join(d, "HomeDomain", "Library", "SMS", "sms.db")); code != 0 || err != nil {
			t.Errorf("extract %v: exit %d, %v %s", args, code, err, errOut)
		}
	}
}

// TestExtractOverExistingFiles: a second extract into the same folder says once that
// files exist, suggesting --skip-existing and --overwrite, with no warning per file;
// --skip-existing leaves a changed file as it is, --overwrite restores it.
func TestExtractOverExistingFiles(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "b")
	genBackup(t, dir, gen.Options{Seed: 8, Entries: 120})
	dest := t.TempDir()
	if code, _, errOut := runCLI(t, "extract", "-q", dir, dest); code != 0 {
		t.Fatalf("extract: exit %d %s", code, errOut)
	}
	before := treeOf(t, dest)
	var changed string
	for _, p := range before {
		if !strings.HasSuffix(p, "/") {
			changed = filepath.Join(dest, p)
			break
		}
	}
	orig, _ := os.ReadFile(changed)
	os.Chmod(changed, 0o600)
	if err := os.WriteFile(changed, []byte("changed by the user"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runCLI(t, "extract", "-q", dir, dest)
	if code != exitError || !strings.Contains(errOut, "already exist") || !strings.Contains(errOut, "--skip-existing") || !strings.Contains(errOut, "--overwrite") {
		t.Fatalf("second extract: exit %d\n%s", code, errOut)
	}
	if n := strings.Count(errOut, "\n"); n > 2 {
		t.Errorf("existing files reported %d lines, want one error (and the summary):\n%s", n, errOut)
	}
	if strings.Contains(errOut, "could not be extracted") || strings.Contains(errOut, "warning") {
		t.Errorf("existing files counted as failures:\n%s", errOut)
	}

	code, _, errOut = runCLI(t, "extract", "--skip-existing", dir, dest)
	if code != 0 || !strings.Contains(errOut, "already there") {
		t.Fatalf("--skip-existing: exit %d %s", code, errOut)
	}
	if data, _ := os.ReadFile(changed); string(data) != "changed by the user" {
		t.Errorf("--skip-existing replaced %s", changed)
	}
	if code, _, errOut = runCLI(t, "extract", "-q", "--overwrite", dir, dest); code != 0 {
		t.Fatalf("--overwrite: exit %d %s", code, errOut)
	}
	if data, _ := os.ReadFile(changed); !bytes.Equal(data, orig) {
		t.Errorf("--overwrite left %s as %q", changed, data)
	}
	if after := treeOf(t, dest); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("tree changed across re-extracts")
	}
	if code, _, errOut = runCLI(t, "extract", "--overwrite", "--skip-existing", dir, dest); code != exitUsage {
		t.Errorf("both flags: exit %d %s", code, errOut)
	}
}

// TestDevicePathsAgreeWithTheMount: `ls -R BACKUP /` lists exactly what the mount's
// device/ folder holds, and cat of a device path prints what reading it there gives
// (or fails where it fails): on a generated backup and on the MVT sample, whose 562
// domains meet in many device folders.
func TestDevicePathsAgreeWithTheMount(t *testing.T) {
	testenv.RequireFUSE(t)
	isolate(t)
	generated := filepath.Join(t.TempDir(), "b")
	genBackup(t, generated, gen.Options{Seed: 14, Entries: 400})
	for _, dir := range []string{generated, filepath.Join(samples, "ios14-mvt")} {
		mp := mountBG(t, nil, dir)
		dev := filepath.Join(mp, "device")
		mounted := treeOf(t, dev)
		t.Logf("%s: device/ holds %d paths", dir, len(mounted))

		code, out, errOut := runCLI(t, "ls", "-R", dir, "/")
		if code != 0 {
			t.Fatalf("ls -R /: exit %d %s", code, errOut)
		}
		listed := strings.Split(strings.TrimSpace(out), "\n")
		sort.Strings(listed)
		if strings.Join(listed, "\n") != strings.Join(mounted, "\n") {
			t.Fatalf("%s: ls -R / lists %d paths, device/ holds %d:\nls: %v\nmount: %v", dir, len(listed), len(mounted), listed, mounted)
		}
		files := 0
		for _, p := range mounted {
			st, err := os.Lstat(filepath.Join(dev, p))
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
			want, readErr := os.ReadFile(filepath.Join(dev, p))
			code, out, errOut := runCLI(t, "cat", dir, "/"+p)
			switch {
			case readErr != nil && code == 0:
				t.Errorf("cat /%s succeeded where reading the mount fails (%v)", p, readErr)
			case readErr == nil && (code != 0 || out != string(want)):
				t.Errorf("cat /%s: exit %d, %d bytes, want %d (%s)", p, code, len(out), len(want), errOut)
			}
			if files++; files == 60 {
				break
			}
		}
		if files == 0 {
			t.Fatalf("%s: no file under device/ to compare", dir)
		}
	}
}
