package manifest

import "testing"

// TestFileURIWindowsPaths: drive-letter paths get the empty authority and leading
// slash SQLite wants (file:///C:/...), with backslashes turned into slashes.
func TestFileURIWindowsPaths(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`C:\Users\me\Apple\MobileSync\Backup\x\Manifest.db`, "file:///C:/Users/me/Apple/MobileSync/Backup/x/Manifest.db"},
		{`D:\odd #% name\Manifest.db`, "file:///D:/odd %23%25 name/Manifest.db"},
	} {
		if got := fileURI(c.in); got != c.want {
			t.Errorf("fileURI(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
