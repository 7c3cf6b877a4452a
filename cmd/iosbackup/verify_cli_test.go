package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/history"
	"iosbackup/internal/gen"
)

func genCLI(t *testing.T, opt gen.Options) *gen.Truth {
	t.Helper()
	if opt.Encrypted {
		opt.Password, opt.SHA256Rounds, opt.SHA1Rounds = "pw", 1000, 10
	}
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "backup"), opt)
	if err != nil {
		t.Fatal(err)
	}
	return truth
}

func blobPathOf(truth *gen.Truth, te *gen.TruthEntry) string {
	id := te.ID().String()
	return filepath.Join(truth.Dir, id[:2], id)
}

func firstPhoto(t *testing.T, truth *gen.Truth) *gen.TruthEntry {
	for i := range truth.Entries {
		if strings.HasSuffix(truth.Entries[i].Path, "IMG_0002.JPG") {
			return &truth.Entries[i]
		}
	}
	t.Fatal("no photo in the generated backup")
	return nil
}

// TestVerifyCLI: exit 0 and "sound" for a sound backup, 1 with a line naming the
// damaged file's domain/path and fileID, the same in --json, 2 for no backup.
func TestVerifyCLI(t *testing.T) {
	isolate(t)
	t.Setenv("IOSBACKUP_PASSWORD", "pw")
	truth := genCLI(t, gen.Options{Seed: 41, Encrypted: true})
	code, out, errOut := runCLI(t, "verify", truth.Dir)
	if code != 0 || !strings.Contains(out, truth.Dir+": sound") {
		t.Fatalf("sound backup: exit %d\n%s%s", code, out, errOut)
	}
	te := firstPhoto(t, truth)
	if err := os.Remove(blobPathOf(truth, te)); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "verify", truth.Dir)
	line := te.Domain + "/" + te.Path + " (fileID " + te.ID().String() + "): blob-missing: "
	if code != 1 || !strings.HasPrefix(out, line) || !strings.Contains(out, ": 1 problems") {
		t.Fatalf("missing blob: exit %d, want a line starting %q:\n%s", code, line, out)
	}
	code, out, _ = runCLI(t, "verify", "--quick", "--json", truth.Dir)
	var rep struct {
		Path     string `json:"path"`
		Sound    bool   `json:"sound"`
		Quick    bool   `json:"quick"`
		Problems []struct {
			Check  string `json:"check"`
			Domain string `json:"domain"`
			Path   string `json:"path"`
			FileID string `json:"file_id"`
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	// The project's one JSON naming (json_out.go): snake_case, path, *_bytes, *_seconds.
	var obj map[string]any
	json.Unmarshal([]byte(out), &obj)
	requireKeys(t, "verify", obj, []string{"path", "sound", "files", "read_bytes", "elapsed_seconds", "problems"},
		[]string{"dir", "bytes", "elapsedNs", "Dir"})
	requireKeys(t, "verify problem", obj["problems"].([]any)[0].(map[string]any), []string{"check", "domain", "path", "file_id", "detail"},
		[]string{"fileID", "FileID"})
	if code != 1 || rep.Sound || !rep.Quick || rep.Path != truth.Dir || len(rep.Problems) != 1 || rep.Problems[0].Check != "blob-missing" ||
		rep.Problems[0].Path != te.Path || rep.Problems[0].FileID != te.ID().String() {
		t.Fatalf("--json: exit %d %+v", code, rep)
	}
	if code, _, errOut := runCLI(t, "verify", filepath.Join(t.TempDir(), "none")); code != 2 || errOut == "" {
		t.Fatalf("no backup: exit %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "verify", t.TempDir()); code != 2 {
		t.Fatalf("empty folder: exit %d", code)
	}
}

// TestVerifySnapshotCLI: a folder sealed by history is checked against its record: a
// blob rewritten in place (the damage a hard-linked snapshot fears) is named.
func TestVerifySnapshotCLI(t *testing.T) {
	isolate(t)
	truth := genCLI(t, gen.Options{Seed: 42})
	if err := history.Seal(truth.Dir, ""); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "verify", truth.Dir); code != 0 {
		t.Fatalf("sealed snapshot: exit %d\n%s%s", code, out, errOut)
	}
	var te *gen.TruthEntry
	for i := range truth.Entries {
		if e := &truth.Entries[i]; e.Digest == nil && e.TrueSize > 100 && strings.HasSuffix(e.Path, ".dat") {
			te = e
			break
		}
	}
	if te == nil {
		t.Fatal("no file without a digest")
	}
	p := blobPathOf(truth, te)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("X"), 10)
	f.Close()
	code, out, _ := runCLI(t, "verify", truth.Dir)
	if code != 1 || !strings.HasPrefix(out, te.Domain+"/"+te.Path+" (fileID "+te.ID().String()+"): snapshot: ") {
		t.Fatalf("rewritten blob: exit %d\n%s", code, out)
	}
}

// TestDiffCLI: exit 1 and the generator's changes for two revisions, 0 for a backup
// against itself, --stat and --json, 2 for trouble.
func TestDiffCLI(t *testing.T) {
	isolate(t)
	a := genCLI(t, gen.Options{Seed: 43})
	b := genCLI(t, gen.Options{Seed: 43, Revision: 1})
	changed, added, removed := gen.Diff(a, b)
	code, out, errOut := runCLI(t, "diff", a.Dir, b.Dir)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		kind, rest, _ := strings.Cut(l, " ")
		key, _, _ := strings.Cut(strings.TrimSpace(rest), " (")
		lines[kind+" "+strings.TrimSuffix(key, "/")] = true
	}
	for _, k := range added {
		if !lines["added "+k] {
			t.Errorf("no line for added %s", k)
		}
	}
	for _, k := range removed {
		if !lines["removed "+k] {
			t.Errorf("no line for removed %s", k)
		}
	}
	for _, k := range changed {
		if !lines["changed "+k] && !lines["attrs "+k] {
			t.Errorf("no line for changed %s", k)
		}
	}
	if n := len(added) + len(removed) + len(changed); len(lines) != n {
		t.Errorf("%d lines, the generator made %d differences:\n%s", len(lines), n, out)
	}
	if code, out, _ := runCLI(t, "diff", a.Dir, a.Dir); code != 0 || out != "" {
		t.Fatalf("self: exit %d %q", code, out)
	}
	code, out, _ = runCLI(t, "diff", "--stat", a.Dir, b.Dir)
	if code != 1 || !strings.Contains(out, "HomeDomain") || !strings.Contains(out, "total") {
		t.Fatalf("--stat: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "diff", "--json", "--content", a.Dir, b.Dir)
	var res struct {
		Same        bool
		Differences []struct{ Kind, Domain, Path string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.Same ||
		len(res.Differences) != len(added)+len(removed)+len(changed) {
		t.Fatalf("--json: exit %d, %v, %d differences", code, err, len(res.Differences))
	}
	var obj map[string]any
	json.Unmarshal([]byte(out), &obj)
	requireKeys(t, "diff", obj, []string{"same", "entries_compared", "contents_compared", "differences"}, []string{"Entries", "contentCompared"})
	if code, _, _ := runCLI(t, "diff", a.Dir, filepath.Join(t.TempDir(), "none")); code != 2 {
		t.Fatalf("missing B: exit %d", code)
	}

	// Two encrypted revisions, unlocked with one password (from the environment).
	ea := genCLI(t, gen.Options{Seed: 44, Encrypted: true})
	eb := genCLI(t, gen.Options{Seed: 44, Encrypted: true, Revision: 1})
	changed, added, removed = gen.Diff(ea, eb)
	t.Setenv("IOSBACKUP_PASSWORD", "pw")
	code, out, errOut = runCLI(t, "diff", "--content", ea.Dir, eb.Dir)
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); code != 1 || n != len(changed)+len(added)+len(removed) {
		t.Fatalf("encrypted: exit %d, %d lines, want %d\n%s%s", code, n, len(changed)+len(added)+len(removed), out, errOut)
	}
	t.Setenv("IOSBACKUP_PASSWORD", "wrong")
	if code, _, _ := runCLI(t, "diff", ea.Dir, eb.Dir); code != 2 {
		t.Fatalf("wrong password: exit %d", code)
	}
}
