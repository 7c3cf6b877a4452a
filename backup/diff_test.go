package backup

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"howett.net/plist"

	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

func openTruth(t *testing.T, truth *gen.Truth) *Backup {
	t.Helper()
	b, err := Open(truth.Dir, Options{Password: password(truth.Password)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() }) // an open Backup keeps its folder open: Windows cannot delete it
	return b
}

// openDir opens the plain backup in dir until the test ends.
func openDir(t *testing.T, dir string) *Backup {
	t.Helper()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// generatePair writes revision 0 and revision 1 of the same device.
func generatePair(t *testing.T, opt gen.Options) (*gen.Truth, *gen.Truth) {
	t.Helper()
	a := generate(t, opt)
	opt.Revision = 1
	b := generate(t, opt)
	return a, b
}

// keysOf splits a result into "Domain/path" lists by kind, changed and attrs together
// (the generator's Diff does not tell a contents change from a metadata one).
func keysOf(r *DiffResult) (changed, added, removed []string) {
	for _, d := range r.Differences {
		switch d.Kind {
		case DiffChanged, DiffAttrs:
			changed = append(changed, d.Key())
		case DiffAdded:
			added = append(added, d.Key())
		case DiffRemoved:
			removed = append(removed, d.Key())
		}
	}
	sort.Strings(changed)
	sort.Strings(added)
	sort.Strings(removed)
	return
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestDiffRevisions: two captures of one device, in every layout. The expected
// differences are what the generator changed (gen.Diff over its two Truths).
func TestDiffRevisions(t *testing.T) {
	for _, format := range []gen.Format{gen.FormatDB, gen.FormatMBDB} {
		for _, enc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/encrypted=%v", format, enc), func(t *testing.T) {
				t.Parallel()
				ta, tb := generatePair(t, gen.Options{Seed: 31, Format: format, Encrypted: enc, Entries: 500})
				wantChanged, wantAdded, wantRemoved := gen.Diff(ta, tb)
				if len(wantChanged) == 0 || len(wantAdded) == 0 || len(wantRemoved) == 0 {
					t.Fatalf("the revision changed nothing: %v %v %v", wantChanged, wantAdded, wantRemoved)
				}
				a, b := openTruth(t, ta), openTruth(t, tb)
				for _, content := range []bool{false, true} {
					res, err := Diff(a, b, DiffOptions{Content: content})
					if err != nil {
						t.Fatal(err)
					}
					changed, added, removed := keysOf(res)
					sameList(t, "changed", changed, wantChanged)
					sameList(t, "added", added, wantAdded)
					sameList(t, "removed", removed, wantRemoved)
					for _, d := range res.Differences {
						if d.Undecided && content {
							t.Errorf("%s undecided with --content", d.Key())
						}
					}
				}
				// A backup against itself: the same, with nothing read.
				res, err := Diff(a, a, DiffOptions{Content: true})
				if err != nil || !res.Same() || res.Compared != 0 {
					t.Fatalf("self diff: %v, %d differences, %d compared", err, len(res.Differences), res.Compared)
				}
			})
		}
	}
}

// editDBRow rewrites one row's MBFile record of a plain Manifest.db: the archive is
// decoded with howett.net/plist (independent of the reader under test), edit changes
// the root object, and it is encoded back.
func editDBRow(t *testing.T, dir, domain, relPath string, edit func(root map[string]any)) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "Manifest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rec []byte
	if err := db.QueryRow(`SELECT file FROM Files WHERE domain = ? AND relativePath = ?`, domain, relPath).Scan(&rec); err != nil {
		t.Fatalf("%s/%s: %v", domain, relPath, err)
	}
	var archive map[string]any
	if _, err := plist.Unmarshal(rec, &archive); err != nil {
		t.Fatal(err)
	}
	objects := archive["$objects"].([]any)
	top := archive["$top"].(map[string]any)["root"].(plist.UID)
	edit(objects[top].(map[string]any))
	out, err := plist.Marshal(archive, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE Files SET file = ? WHERE domain = ? AND relativePath = ?`, out, domain, relPath); err != nil {
		t.Fatal(err)
	}
}

// copyBackup copies a backup folder; with link, blobs are hard links (as a snapshot
// shares them) and only the manifest and plists are copies.
func copyBackup(t *testing.T, src string, link bool) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if link && filepath.Dir(rel) != "." {
			return os.Link(p, out)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func onlyDifference(t *testing.T, res *DiffResult, want Difference) {
	t.Helper()
	if len(res.Differences) != 1 {
		t.Fatalf("%d differences, want 1:\n%s", len(res.Differences), DiffText(res))
	}
	got := res.Differences[0]
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// TestDiffModeAndMtimeOnly: attribute-only changes made by the test in B's manifest.
func TestDiffModeAndMtimeOnly(t *testing.T) {
	ta := generate(t, gen.Options{Seed: 32})
	a := openTruth(t, ta)
	random := pick(t, ta, func(te *gen.TruthEntry) bool { return te.Digest == nil && te.TrueSize > 100 })
	digested := pick(t, ta, func(te *gen.TruthEntry) bool { return te.Digest != nil && te.TrueSize > 100 })

	// Mode only: size, mtime, inode and digest agree, so the records decide.
	dir := copyBackup(t, ta.Dir, false)
	editDBRow(t, dir, random.Domain, random.Path, func(r map[string]any) { r["Mode"] = uint64(random.Mode ^ 0o044) })
	b := openDir(t, dir)
	res, err := Diff(a, b, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	onlyDifference(t, res, Difference{Kind: DiffAttrs, Domain: random.Domain, Path: random.Path, Type: "file", Fields: []string{"mode"}})

	// Mtime of a file with a digest: the digests decide.
	dir = copyBackup(t, ta.Dir, false)
	editDBRow(t, dir, digested.Domain, digested.Path, func(r map[string]any) { r["LastModified"] = uint64(digested.MTime + 60) })
	b = openDir(t, dir)
	res, _ = Diff(a, b, DiffOptions{})
	onlyDifference(t, res, Difference{Kind: DiffAttrs, Domain: digested.Domain, Path: digested.Path, Type: "file", Fields: []string{"mtime"}})

	// Mtime of a file without one: the records cannot tell. Without --content it is
	// listed as changed, undecided; --content reads both and finds the same bytes.
	dir = copyBackup(t, ta.Dir, false)
	editDBRow(t, dir, random.Domain, random.Path, func(r map[string]any) { r["LastModified"] = uint64(random.MTime + 60) })
	b = openDir(t, dir)
	res, _ = Diff(a, b, DiffOptions{})
	onlyDifference(t, res, Difference{Kind: DiffChanged, Domain: random.Domain, Path: random.Path, Type: "file", Fields: []string{"contents", "mtime"}, Undecided: true})
	res, _ = Diff(a, b, DiffOptions{Content: true})
	onlyDifference(t, res, Difference{Kind: DiffAttrs, Domain: random.Domain, Path: random.Path, Type: "file", Fields: []string{"mtime"}})
	if res.Compared != 1 {
		t.Errorf("%d files compared, want 1", res.Compared)
	}

	// The same edit in a copy whose blobs are hard links of A's (a snapshot): the
	// blob inode decides without reading.
	dir = copyBackup(t, ta.Dir, true)
	editDBRow(t, dir, random.Domain, random.Path, func(r map[string]any) { r["LastModified"] = uint64(random.MTime + 60) })
	b = openDir(t, dir)
	res, _ = Diff(a, b, DiffOptions{})
	onlyDifference(t, res, Difference{Kind: DiffAttrs, Domain: random.Domain, Path: random.Path, Type: "file", Fields: []string{"mtime"}})

	// And contents changed behind the same record: --content finds it.
	dir = copyBackup(t, ta.Dir, false)
	editDBRow(t, dir, random.Domain, random.Path, func(r map[string]any) { r["LastModified"] = uint64(random.MTime + 60) })
	blob := filepath.Join(dir, random.ID().String()[:2], random.ID().String())
	data, _ := os.ReadFile(blob)
	data[len(data)/2] ^= 1
	os.WriteFile(blob, data, 0o644)
	b = openDir(t, dir)
	res, _ = Diff(a, b, DiffOptions{Content: true})
	onlyDifference(t, res, Difference{Kind: DiffChanged, Domain: random.Domain, Path: random.Path, Type: "file", Fields: []string{"contents", "mtime"}})
}

// extractAll writes every entry of b under dir/<Domain>/<path>: the test's own
// extraction, so that diff(1) can compare two backups as folders.
func extractAll(t *testing.T, b *Backup, dir string) {
	t.Helper()
	for i := 0; i < b.Index.Len(); i++ {
		e := b.Index.Entry(int32(i))
		p := filepath.Join(dir, e.Domain, filepath.FromSlash(e.Path))
		switch e.Kind {
		case manifest.KindDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case manifest.KindSymlink:
			if err := os.Symlink(e.Target(), p); err != nil {
				t.Fatal(err)
			}
		case manifest.KindFile:
			f, err := b.OpenFile(e)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestDiffAgainstDiffRQ: `diff -rq --no-dereference` of the two backups extracted
// names the same files as ours: its "Only in" lines are our topmost added and removed
// entries, its "differ" lines our contents, type and target changes.
func TestDiffAgainstDiffRQ(t *testing.T) {
	bin := testenv.RequireTool(t, "diff")
	ta, tb := generatePair(t, gen.Options{Seed: 33, Encrypted: true, Entries: 300})
	a, b := openTruth(t, ta), openTruth(t, tb)
	root := t.TempDir()
	da, db := filepath.Join(root, "A"), filepath.Join(root, "B")
	extractAll(t, a, da)
	extractAll(t, b, db)
	out, err := exec.Command(bin, "-rq", "--no-dereference", da, db).Output()
	if code := exitCode(err); code != 1 {
		t.Fatalf("diff -rq: exit %d (%v)", code, err)
	}
	var wantOnlyA, wantOnlyB, wantDiffer []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.HasPrefix(line, "Only in "):
			dirName, name, _ := strings.Cut(strings.TrimPrefix(line, "Only in "), ": ")
			full := filepath.Join(dirName, name)
			if rel, err := filepath.Rel(da, full); err == nil && !strings.HasPrefix(rel, "..") {
				wantOnlyA = append(wantOnlyA, filepath.ToSlash(rel))
			} else {
				rel, _ := filepath.Rel(db, full)
				wantOnlyB = append(wantOnlyB, filepath.ToSlash(rel))
			}
		case strings.HasPrefix(line, "Files "), strings.HasPrefix(line, "Symbolic links "):
			// "Files A/p and B/p differ" (paths may hold spaces: cut at B's prefix).
			rest := strings.TrimPrefix(strings.TrimPrefix(line, "Files "), "Symbolic links ")
			left, _, ok := strings.Cut(rest, " and "+db+string(filepath.Separator))
			if !ok {
				t.Fatalf("unparsed diff line %q", line)
			}
			rel, _ := filepath.Rel(da, left)
			wantDiffer = append(wantDiffer, filepath.ToSlash(rel))
		case strings.HasPrefix(line, "File "):
			// "File A/p is a regular file while file B/p is a directory"
			left, _, _ := strings.Cut(strings.TrimPrefix(line, "File "), " is a ")
			rel, _ := filepath.Rel(da, left)
			wantDiffer = append(wantDiffer, filepath.ToSlash(rel))
		default:
			t.Fatalf("unexpected diff line %q", line)
		}
	}
	res, err := Diff(a, b, DiffOptions{Content: true})
	if err != nil {
		t.Fatal(err)
	}
	added, removed := map[string]bool{}, map[string]bool{}
	var gotOnlyA, gotOnlyB, gotDiffer []string
	for _, d := range res.Differences {
		k := d.Key()
		parent := entryKey(d.Domain, parentDir(d.Path))
		switch d.Kind {
		case DiffAdded:
			added[k] = true
			if d.Path == "" || !added[parent] {
				gotOnlyB = append(gotOnlyB, k)
			}
		case DiffRemoved:
			removed[k] = true
			if d.Path == "" || !removed[parent] {
				gotOnlyA = append(gotOnlyA, k)
			}
		case DiffChanged:
			gotDiffer = append(gotDiffer, k)
		}
	}
	for _, l := range [][]string{wantOnlyA, wantOnlyB, wantDiffer, gotOnlyA, gotOnlyB, gotDiffer} {
		sort.Strings(l)
	}
	sameList(t, "only in A", gotOnlyA, wantOnlyA)
	sameList(t, "only in B", gotOnlyB, wantOnlyB)
	sameList(t, "differ", gotDiffer, wantDiffer)
	if len(wantDiffer) == 0 || len(wantOnlyA) == 0 || len(wantOnlyB) == 0 {
		t.Fatalf("nothing to compare: %s", out)
	}
	if !bytes.Contains(out, []byte("differ")) {
		t.Fatal("diff -rq found no changed file")
	}
}

func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
