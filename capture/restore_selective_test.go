package capture_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"iosbackup/backup"
	"iosbackup/capture"
	"iosbackup/internal/devicesim"
)

// TestRestoreSelective restores one domain of an old backup (revision 0) over a device
// that changed since (revision 1): that domain equals the old backup, every other file
// equals the device before the restore, the old backup is unchanged, and the merged
// backup is kept only when asked.
func TestRestoreSelective(t *testing.T) {
	oldDir := copyBackup(t, rev0(t))
	old := contentDigests(t, oldDir, "")
	now := contentDigests(t, rev1(t), "")
	domain := differingDomain(old, now)
	if domain == "" {
		t.Fatal("revisions 0 and 1 differ in no domain: the test would prove nothing")
	}
	changed := 0
	for k := range old {
		if inDomain(k, domain) && old[k] != now[k] {
			changed++
		}
	}
	t.Logf("restoring %s: %d of its files differ between the old backup and the device", domain, changed)
	sim := startSim(t, rev1(t), devicesim.Config{})
	before := snapshotTree(t, oldDir)
	keep := filepath.Join(t.TempDir(), "merged")
	o := capture.SelectiveOptions{
		RestoreOptions: capture.RestoreOptions{Target: target(sim), Backup: openForRestore(t, oldDir, ""), System: true, Settings: true, Remove: true},
		Only:           []string{domain}, KeepMerged: keep,
	}
	if _, err := capture.RestoreSelective(context.Background(), o); err != nil {
		t.Fatalf("selective restore of %s: %v", domain, err)
	}
	got, err := sim.Contents()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for k, v := range now {
		if !inDomain(k, domain) {
			want[k] = v
		}
	}
	for k, v := range old {
		if inDomain(k, domain) {
			want[k] = v
		}
	}
	gotHex := map[string]string{}
	for k, f := range got {
		gotHex[k] = hex.EncodeToString(f.SHA256[:])
	}
	assertSameContents(t, want, gotHex, "device after restoring "+domain)
	assertUnchanged(t, oldDir, before)
	if _, err := os.Stat(filepath.Join(keep, sim.UDID(), "Manifest.db")); err != nil {
		t.Errorf("merged backup not kept: %v", err)
	}

	// An encrypted old backup is refused before anything happens.
	enc := copyBackup(t, restoreWanted(t, true))
	o.Backup, o.KeepMerged = openForRestore(t, enc, restorePassword), ""
	sim.ResetStats()
	if _, err := capture.RestoreSelective(context.Background(), o); !errors.Is(err, backup.ErrOverlayUnsupported) {
		t.Errorf("encrypted: %v", err)
	}
	if st := sim.Stats(); st.Sessions != 0 {
		t.Errorf("the device was asked %d times for an unsupported selective restore", st.Sessions)
	}
}

func inDomain(key, domain string) bool { return key == domain || strings.HasPrefix(key, domain+"/") }

// differingDomain is the first domain (in order) whose files differ between a and b.
func differingDomain(a, b map[string]string) string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if a[k] != b[k] {
			return strings.SplitN(k, "/", 2)[0]
		}
	}
	return ""
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, domain, rel string
		want                 bool
	}{
		{"HomeDomain", "HomeDomain", "Library/SMS/sms.db", true},
		{"HomeDomain", "HomeDomain", "", true},
		{"HomeDomain", "HomeDomainX", "a", false},
		{"AppDomain-com.example.*", "AppDomain-com.example.chat", "Documents/a", true},
		{"HomeDomain/Library/SMS", "HomeDomain", "Library/SMS/sms.db", true},
		{"HomeDomain/Library/SMS", "HomeDomain", "Library/SMSX", false},
		{"HomeDomain/*/sms.db", "HomeDomain", "Library/sms.db", true},
		{"MediaDomain", "HomeDomain", "Media", false},
	} {
		if got := backup.Match([]string{c.pattern}, c.domain, c.rel); got != c.want {
			t.Errorf("Match(%q, %s/%s) = %v, want %v", c.pattern, c.domain, c.rel, got, c.want)
		}
	}
}
