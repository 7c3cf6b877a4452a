package capture_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"iosbackup/capture"
	"iosbackup/internal/devicesim"
	"iosbackup/internal/gen"
	"iosbackup/internal/testenv"
)

// TestRestoreInteropIdevicebackup2: Debian's idevicebackup2 restore and ours, given the
// same backup and the same flags, send the device the same options and leave two
// simulated devices that started alike with the same contents; for a whole restore and
// for idevicebackup2's defaults (which keep some of the device's files), plain,
// encrypted, and a Manifest.mbdb backup onto an iOS 9 device.
func TestRestoreInteropIdevicebackup2(t *testing.T) {
	bin := testenv.RequireTool(t, "idevicebackup2")
	mbdbUDID := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		name     string
		wanted   gen.Options
		before   gen.Options
		password string
		flags    []string
	}{
		{name: "whole", wanted: gen.Options{Seed: 21, Entries: 400, UDID: restoreUDID}, before: gen.Options{Seed: 22, Entries: 300, UDID: restoreUDID},
			flags: []string{"--system", "--settings", "--remove"}},
		{name: "defaults", wanted: gen.Options{Seed: 21, Entries: 400, UDID: restoreUDID}, before: gen.Options{Seed: 22, Entries: 300, UDID: restoreUDID}},
		{name: "encrypted", wanted: gen.Options{Seed: 21, Entries: 400, UDID: restoreUDID, Encrypted: true, Password: restorePassword, SHA256Rounds: 1000, SHA1Rounds: 10},
			before: gen.Options{Seed: 22, Entries: 300, UDID: restoreUDID}, password: restorePassword, flags: []string{"--system", "--settings", "--remove"}},
		{name: "mbdb", wanted: gen.Options{Seed: 23, Format: gen.FormatMBDB, Entries: 300, UDID: mbdbUDID},
			before: gen.Options{Seed: 24, Format: gen.FormatMBDB, Entries: 200, UDID: mbdbUDID}, flags: []string{"--system", "--settings", "--remove", "--no-reboot"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wanted := genBackup(t, "interop-wanted-"+c.name, c.wanted)
			before := genBackup(t, "interop-before-"+c.name, c.before)
			udid := c.wanted.UDID
			root := t.TempDir()
			src := filepath.Join(root, udid)
			copyTree(t, wanted, src)
			sums := snapshotTree(t, root)

			theirs := startSim(t, before, devicesim.Config{UDID: udid, ServiceSSL: true})
			args := append([]string{"restore"}, c.flags...)
			stdin := ""
			if c.password != "" {
				args, stdin = append([]string{"-i"}, args...), c.password+"\n"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append(args, root)...)
			cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS=UNIX:"+theirs.Socket())
			cmd.Stdin = strings.NewReader(stdin)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "Restore Successful.") {
				t.Fatalf("idevicebackup2 restore: %v\n%s", err, out.String())
			}

			ours := startSim(t, before, devicesim.Config{UDID: udid, ServiceSSL: true})
			o := capture.RestoreOptions{Target: target(ours), Backup: openForRestore(t, src, c.password)}
			for _, f := range c.flags {
				switch f {
				case "--system":
					o.System = true
				case "--settings":
					o.Settings = true
				case "--remove":
					o.Remove = true
				case "--no-reboot":
					o.NoReboot = true
				}
			}
			if c.password != "" {
				o.Password = []byte(c.password)
			}
			if _, err := capture.Restore(context.Background(), o); err != nil {
				t.Fatalf("our restore: %v", err)
			}

			tr, or := lastRestore(theirs), lastRestore(ours)
			if !maps.Equal(tr.Options, or.Options) {
				t.Errorf("options sent: idevicebackup2 %v, ours %v", tr.Options, or.Options)
			}
			if tr.Files != or.Files || tr.Source != or.Source {
				t.Errorf("device records: idevicebackup2 %+v, ours %+v", tr, or)
			}
			tc, err := theirs.Contents()
			if err != nil {
				t.Fatal(err)
			}
			oc, err := ours.Contents()
			if err != nil {
				t.Fatal(err)
			}
			if len(tc) == 0 || !maps.Equal(tc, oc) {
				n := 0
				for k, v := range tc {
					if w := oc[k]; w != v && n < 5 {
						t.Errorf("%s: idevicebackup2 left %x (%d bytes), ours %x (%d bytes)", k, v.SHA256[:6], v.Size, w.SHA256[:6], w.Size)
						n++
					}
				}
				t.Fatalf("device contents differ: idevicebackup2 %d files, ours %d", len(tc), len(oc))
			}
			after := snapshotTree(t, root)
			if !maps.Equal(sums, after) {
				t.Error("a restore changed the host's backup root")
			}
		})
	}
}
