package fuse

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Lines as the kernel writes them (proc(5)), with optional fields, none, and escapes.
func TestParseMountinfo(t *testing.T) {
	in := `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
61 25 0:52 / /tmp/my\040phone rw,nosuid,nodev,relatime shared:30 master:2 - fuse.iosbackup iosbackup ro,user_id=0,group_id=0
62 25 0:53 / /tmp/t rw,relatime - tmpfs tmpfs rw,size=1024k
garbage
`
	got, err := parseMountinfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountRecord{
		{Dev: "98:0", Path: "/mnt2", FSType: "ext3", Source: "/dev/root"},
		{Dev: "0:52", Path: "/tmp/my phone", FSType: "fuse.iosbackup", Source: "iosbackup"},
		{Dev: "0:53", Path: "/tmp/t", FSType: "tmpfs", Source: "tmpfs"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// This process's own mountinfo: the root filesystem is there, with a type, and
// MountedAt tells it from a plain folder below it.
func TestMountedAtRealMountinfo(t *testing.T) {
	rec, ok, err := mountAt("/")
	if err != nil || !ok || rec.FSType == "" {
		t.Fatalf("mountAt(/): %+v %v %v", rec, ok, err)
	}
	if typ, err := MountedAt("/proc"); err != nil || typ != "proc" {
		t.Errorf("MountedAt(/proc) = %q, %v; want proc", typ, err)
	}
	dir := t.TempDir()
	if typ, err := MountedAt(dir); err != nil || typ != "" {
		t.Errorf("MountedAt(%s) = %q, %v; want nothing mounted", dir, typ, err)
	}
	if _, err := Unmount(dir); err == nil || !strings.Contains(err.Error(), "not mounted") {
		t.Errorf("Unmount of a plain folder: %v", err)
	}
	if _, err := Unmount(dir + "/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Unmount of a missing path: %v", err)
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n")
	f.Add("1 2 3 4 5 6 - \n1 2 3 4 \\\n")
	f.Add("61 25 0:52 / /a\\040b rw - fuse.iosbackup iosbackup ro")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := parseMountinfo(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.Dev == "" {
				t.Fatalf("record without a device: %+v", r)
			}
		}
	})
}
