package backup_test

// An external test package: the simulated device reads backups with package backup,
// so backup's own tests cannot import it.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"iosbackup/backup"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
	"iosbackup/manifest"
)

// TestVerifyIdevicebackup2Capture: Debian's idevicebackup2 takes a backup from the
// simulated device; the folder it writes (its own Status.plist and Info.plist) verifies
// sound, and a blob it wrote, once removed, is named.
func TestVerifyIdevicebackup2Capture(t *testing.T) {
	bin := testenv.RequireTool(t, "idevicebackup2")
	src := filepath.Join(t.TempDir(), "src")
	truth, err := gen.Generate(src, gen.Options{Seed: 23, Entries: 500})
	if err != nil {
		t.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "sim-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	sim, err := devicesim.Start(filepath.Join(sockDir, "mux.sock"), devicesim.Config{Source: src, ServiceSSL: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "backup", "--full", out)
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS=UNIX:"+sim.Socket())
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil || !strings.Contains(log.String(), "Backup Successful.") {
		tail := log.String()
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		t.Fatalf("idevicebackup2: %v\n%s", err, tail)
	}
	dir := filepath.Join(out, sim.UDID())
	rep, err := backup.Verify(dir, backup.Options{}, backup.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Sound() {
		for _, p := range rep.Problems {
			t.Error(p)
		}
		t.Fatal("idevicebackup2's backup has problems")
	}
	files := 0
	var sms *gen.TruthEntry
	for i, te := range truth.Entries {
		if te.Kind == manifest.KindFile {
			files++
		}
		if te.Domain == "HomeDomain" && te.Path == "Library/SMS/sms.db" {
			sms = &truth.Entries[i]
		}
	}
	if rep.Files != files || rep.Databases < 7 {
		t.Fatalf("verified %d files (source has %d), %d databases", rep.Files, files, rep.Databases)
	}

	id := sms.ID().String()
	if err := os.Remove(filepath.Join(dir, id[:2], id)); err != nil {
		t.Fatal(err)
	}
	rep, err = backup.Verify(dir, backup.Options{}, backup.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Check != backup.CheckBlobMissing ||
		rep.Problems[0].Path != sms.Path || rep.Problems[0].FileID != id {
		t.Fatalf("removed blob of %s: %v", sms.Key(), rep.Problems)
	}
}
