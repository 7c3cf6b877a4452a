package capture

import (
	"path/filepath"
	"strings"
	"testing"

	"iosbackup/internal/gen"
	"iosbackup/manifest"
)

// TestDisplayName names files as a real device sends them: fixed domains from the
// device path alone, app containers (named by a UUID on the device) from the previous
// backup's Manifest.db, and a file new to this backup by its device path.
func TestDisplayName(t *testing.T) {
	root := t.TempDir()
	const udid = "00008030-0000000000000001"
	truth, err := gen.Generate(filepath.Join(root, udid), gen.Options{Seed: 4, Entries: 200})
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(root, udid)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	prev := newPreviousNames(st)
	defer prev.close()

	host := func(domain, rel string) string {
		id := manifest.ComputeFileID(domain, rel).String()
		return udid + "/Snapshot/" + id[:2] + "/" + id
	}
	var app, home *gen.TruthEntry
	for i := range truth.Entries {
		e := &truth.Entries[i]
		if e.Kind != manifest.KindFile {
			continue
		}
		if strings.HasPrefix(e.Domain, "AppDomain-") && app == nil {
			app = e
		}
		if e.Domain == "HomeDomain" && home == nil {
			home = e
		}
	}
	if app == nil || home == nil {
		t.Fatal("the generated backup has no AppDomain or HomeDomain file")
	}
	const uuid = "/var/mobile/Containers/Data/Application/4C1A0B1E-0000-4000-8000-00000000CAFE/"
	cases := []struct{ device, host, want string }{
		{"/var/mobile/" + home.Path, host(home.Domain, home.Path), "HomeDomain/" + home.Path},
		{uuid + app.Path, host(app.Domain, app.Path), app.Domain + "/" + app.Path},
		{uuid + "Documents/new.txt", host("AppDomain-com.new", "Documents/new.txt"), uuid + "Documents/new.txt"},
		{"/var/mobile/Manifest.db", udid + "/Snapshot/Manifest.db", "Manifest.db"},
	}
	for _, c := range cases {
		if got := displayName(c.device, c.host, udid, prev); got != c.want {
			t.Errorf("%s: %q, want %q", c.device, got, c.want)
		}
	}
	// Without a previous backup the container file keeps its device path.
	if got := displayName(uuid+app.Path, host(app.Domain, app.Path), udid, nil); got != uuid+app.Path {
		t.Errorf("no previous backup: %q", got)
	}
}
