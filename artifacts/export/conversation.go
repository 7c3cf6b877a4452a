// Package export turns the records of the artifacts packages into ordinary files:
// conversations as text, HTML and JSON with their attachments, contacts as vCards,
// calls as CSV, photos copied with their creation time. The renderers write to an
// io.Writer, so the mount's views can build the same bytes; Export* functions write a
// folder confined to DEST by an os.Root.
package export

import (
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"

	"iosbackup/artifacts/sms"
)

// Names resolves a handle (phone number or email) to a person's name; "" when unknown.
type Names func(handle string) string

// Conversation is one chat ready to render: its folder name, and its messages.
type Conversation struct {
	Chat     sms.Chat
	Name     string // the folder name (see ConversationName)
	Messages []*sms.Message
	// Files names each attachment (by attachment ROWID) in attachments/: "<date>
	// <transfer name>"; attachments the backup lacks have none.
	Files map[int64]string
	names Names
}

// NewConversation gathers what rendering needs; names may be nil.
func NewConversation(c sms.Chat, msgs []*sms.Message, names Names) *Conversation {
	if names == nil {
		names = func(string) string { return "" }
	}
	conv := &Conversation{Chat: c, Messages: msgs, names: names, Name: ConversationName(c, names)}
	conv.Files = AttachmentFiles(msgs)
	return conv
}

// ConversationName is a chat's folder name: the group's display name, else the
// members by name (the contact's name when known, else the handle), comma-separated;
// made safe as a file name.
func ConversationName(c sms.Chat, names Names) string {
	if names == nil {
		names = func(string) string { return "" }
	}
	name := c.DisplayName
	if name == "" {
		var parts []string
		for _, m := range c.Members {
			parts = append(parts, personName(m, names))
		}
		name = strings.Join(parts, ", ")
	}
	if name == "" {
		name = c.Identifier
	}
	return SafeName(name)
}

func personName(handle string, names Names) string {
	if n := names(handle); n != "" {
		return n
	}
	return handle
}

// SafeName makes s usable as one path component on every system: no separators or
// control characters, not "." or "..", at most 200 bytes.
func SafeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|':
			return '_'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > 200 {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	if s == "" || s == "." || s == ".." {
		s = "_"
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xc0 != 0x80 {
			return []rune(s[i:])[0], len(s) - i
		}
	}
	return 0, 1
}

// fileTime is how dates appear in file names: sortable, no colons (Windows).
const fileTime = "2006-01-02 15.04.05"

// AttachmentFiles names the attachments the backup holds, in message order, as
// "<local date> <transfer name>", with " (2)", " (3)" before the extension for repeats.
func AttachmentFiles(msgs []*sms.Message) map[int64]string {
	out := map[int64]string{}
	used := map[string]bool{}
	for _, m := range msgs {
		for _, a := range m.Attachments {
			if a.Missing {
				continue
			}
			when := a.Created
			if when.IsZero() {
				when = m.Date
			}
			base := SafeName(when.In(time.Local).Format(fileTime) + " " + path.Base(a.TransferName))
			name := base
			for n := 2; used[name]; n++ {
				ext := path.Ext(base)
				name = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(base, ext), n, ext)
			}
			used[name] = true
			out[a.RowID] = name
		}
	}
	return out
}

// sender is the name shown for a message's author.
func (c *Conversation) sender(m *sms.Message) string {
	if m.FromMe {
		return "Me"
	}
	if m.Sender == "" {
		return "Unknown"
	}
	return personName(m.Sender, c.names)
}

// targetText is the text of the message a reaction points at, shortened.
func (c *Conversation) targetText(guid string) string {
	for _, m := range c.Messages {
		if m.GUID == guid {
			t := strings.TrimSpace(strings.ReplaceAll(m.Text, "\uFFFC", ""))
			if t == "" && len(m.Attachments) > 0 {
				return "an attachment"
			}
			if r := []rune(t); len(r) > 40 {
				t = string(r[:40]) + "…"
			}
			return "“" + t + "”"
		}
	}
	return "a message"
}

// reactionVerb says what a tapback did.
func reactionVerb(r *sms.Reaction) string {
	verb := map[sms.ReactionKind]string{
		"love": "loved", "like": "liked", "dislike": "disliked", "laugh": "laughed at",
		"emphasize": "emphasized", "question": "questioned", "emoji": "reacted " + r.Emoji + " to", "sticker": "put a sticker on",
	}[r.Kind]
	if verb == "" {
		verb = "reacted to"
	}
	if r.Removed {
		return "removed " + string(r.Kind) + " from"
	}
	return verb
}
