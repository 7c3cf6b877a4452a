package export

import (
	"strings"
	"testing"
	"unicode/utf8"

	"iosbackup/artifacts/sms"
)

// Names come from the databases (group names, contact names, transfer names): hostile
// ones must still make one safe path component.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a/b", "../../etc/passwd", "Family 👪", "\x00\x01", "C:\\x", strings.Repeat("é", 300), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := SafeName(s)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") || len(n) > 200 {
			t.Fatalf("SafeName(%q) = %q", s, n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("SafeName(%q) = %q: not UTF-8", s, n)
		}
	})
}

func TestConversationNames(t *testing.T) {
	names := func(h string) string { return map[string]string{"+15550100123": "Alice Martin"}[h] }
	for _, c := range []struct {
		chat sms.Chat
		want string
	}{
		{sms.Chat{DisplayName: "Team/Ops", Members: []string{"a", "b"}}, "Team_Ops"},
		{sms.Chat{Members: []string{"+15550100123", "bob@example.org"}}, "Alice Martin, bob@example.org"},
		{sms.Chat{Identifier: "chat123"}, "chat123"},
		{sms.Chat{DisplayName: ".."}, "_"},
	} {
		if got := ConversationName(c.chat, names); got != c.want {
			t.Errorf("%+v: %q, want %q", c.chat, got, c.want)
		}
	}
}
