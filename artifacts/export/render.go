package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/url"
	"strings"
	"time"

	"iosbackup/artifacts/sms"
)

// lineTime is how messages are dated in text and HTML: local time, to the second.
const lineTime = "2006-01-02 15:04:05"

// piece is a stretch of a message: text, or an attachment where U+FFFC stood.
type piece struct {
	text string
	att  *sms.Attachment
}

// pieces splits a message at its attachment markers; attachments without a marker
// follow the text.
func pieces(m *sms.Message) []piece {
	var out []piece
	atts := m.Attachments
	parts := strings.Split(m.Text, "\uFFFC")
	for i, p := range parts {
		if p != "" {
			out = append(out, piece{text: p})
		}
		if i < len(parts)-1 && len(atts) > 0 {
			out = append(out, piece{att: &atts[0]})
			atts = atts[1:]
		}
	}
	for i := range atts {
		out = append(out, piece{att: &atts[i]})
	}
	return out
}

// WriteText writes the conversation as messages.txt: one line per message (local
// time, sender, text), continuation lines of a multi-line text indented; edits,
// unsends, reactions and attachments in brackets.
func (c *Conversation) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, m := range c.Messages {
		fmt.Fprintf(bw, "%s  %s: %s\n", m.Date.In(time.Local).Format(lineTime), c.sender(m), c.textLine(m))
	}
	return bw.Flush()
}

func (c *Conversation) textLine(m *sms.Message) string {
	switch {
	case !m.Retracted.IsZero():
		return "[unsent a message]"
	case m.Reaction != nil:
		return "[" + reactionVerb(m.Reaction) + " " + c.targetText(m.Reaction.Target) + "]"
	}
	var sb strings.Builder
	for _, p := range pieces(m) {
		switch {
		case p.att == nil:
			sb.WriteString(strings.ReplaceAll(p.text, "\n", "\n    "))
		case c.Files[p.att.RowID] != "":
			fmt.Fprintf(&sb, "[attachment: attachments/%s]", c.Files[p.att.RowID])
		default:
			fmt.Fprintf(&sb, "[attachment not in the backup: %s]", p.att.TransferName)
		}
	}
	if !m.Edited.IsZero() {
		fmt.Fprintf(&sb, " [edited %s%s]", m.Edited.In(time.Local).Format(lineTime), earlier(m))
	}
	return sb.String()
}

// earlier lists the versions an edited message had before its current text.
func earlier(m *sms.Message) string {
	if len(m.Edits) < 2 {
		return ""
	}
	var vs []string
	for _, e := range m.Edits[:len(m.Edits)-1] {
		vs = append(vs, "“"+strings.ReplaceAll(e.Text, "\n", " ")+"”")
	}
	return "; before: " + strings.Join(vs, ", ")
}

const htmlHead = `<!DOCTYPE html>
<html lang="und">
<head>
<meta charset="utf-8">
<title>%s</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; max-width: 48em; margin: 1em auto; background: #fff; color: #111; }
.msg { margin: .4em 0; padding: .4em .7em; border-radius: 1em; max-width: 80%%; background: #e9e9eb; }
.me { margin-left: auto; background: #0b84ff; color: #fff; }
.meta { font-size: 75%%; opacity: .75; }
.note { font-style: italic; }
img { max-width: 100%%; border-radius: .5em; display: block; }
</style>
</head>
<body>
<h1>%s</h1>
`

// WriteHTML writes messages.html: the same messages, images inline from
// attachments/, other files linked.
func (c *Conversation) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	title := html.EscapeString(c.Name)
	fmt.Fprintf(bw, htmlHead, title, title)
	for _, m := range c.Messages {
		class := "msg"
		if m.FromMe {
			class += " me"
		}
		fmt.Fprintf(bw, "<div class=\"%s\" id=\"m%d\"><div class=\"meta\">%s · %s</div>\n", class, m.RowID,
			html.EscapeString(c.sender(m)), m.Date.In(time.Local).Format(lineTime))
		switch {
		case !m.Retracted.IsZero():
			bw.WriteString("<div class=\"note\">unsent a message</div>\n")
		case m.Reaction != nil:
			fmt.Fprintf(bw, "<div class=\"note\">%s</div>\n", html.EscapeString(reactionVerb(m.Reaction)+" "+c.targetText(m.Reaction.Target)))
		default:
			for _, p := range pieces(m) {
				c.writeHTMLPiece(bw, m, p)
			}
			if !m.Edited.IsZero() {
				fmt.Fprintf(bw, "<div class=\"meta\">edited %s%s</div>\n", m.Edited.In(time.Local).Format(lineTime), html.EscapeString(earlier(m)))
			}
		}
		bw.WriteString("</div>\n")
	}
	bw.WriteString("</body>\n</html>\n")
	return bw.Flush()
}

func (c *Conversation) writeHTMLPiece(bw *bufio.Writer, m *sms.Message, p piece) {
	if p.att == nil {
		t := html.EscapeString(p.text)
		for _, l := range m.Links {
			e := html.EscapeString(l)
			if u, err := url.Parse(l); err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "mailto" || u.Scheme == "tel") {
				t = strings.ReplaceAll(t, e, `<a href="`+e+`">`+e+`</a>`)
			}
		}
		fmt.Fprintf(bw, "<div class=\"text\" dir=\"auto\">%s</div>\n", strings.ReplaceAll(t, "\n", "<br>"))
		return
	}
	name := c.Files[p.att.RowID]
	if name == "" {
		fmt.Fprintf(bw, "<div class=\"note\">attachment not in the backup: %s</div>\n", html.EscapeString(p.att.TransferName))
		return
	}
	src := "attachments/" + url.PathEscape(name)
	if strings.HasPrefix(p.att.MIMEType, "image/") {
		fmt.Fprintf(bw, "<img src=\"%s\" alt=\"%s\">\n", html.EscapeString(src), html.EscapeString(p.att.TransferName))
		return
	}
	fmt.Fprintf(bw, "<div><a href=\"%s\">%s</a></div>\n", html.EscapeString(src), html.EscapeString(p.att.TransferName))
}

// messageJSON is one message in messages.json; keys follow the command line's JSON
// naming (snake_case).
type messageJSON struct {
	ID          int64            `json:"id"`
	GUID        string           `json:"guid"`
	Date        time.Time        `json:"date"`
	FromMe      bool             `json:"from_me"`
	Sender      string           `json:"sender,omitempty"`
	SenderName  string           `json:"sender_name"`
	Service     string           `json:"service,omitempty"`
	Text        string           `json:"text"`
	Edited      *time.Time       `json:"edited,omitempty"`
	Edits       []editJSON       `json:"edits,omitempty"`
	Unsent      *time.Time       `json:"unsent,omitempty"`
	Reaction    *reactionJSON    `json:"reaction,omitempty"`
	Links       []string         `json:"links,omitempty"`
	Mentions    []string         `json:"mentions,omitempty"`
	Attachments []attachmentJSON `json:"attachments,omitempty"`
}

// editJSON is one version of an edited message, oldest first.
type editJSON struct {
	Date time.Time `json:"date"`
	Text string    `json:"text"`
}

type reactionJSON struct {
	Kind    string `json:"kind"`
	Removed bool   `json:"removed"`
	Emoji   string `json:"emoji,omitempty"`
	Target  string `json:"target_guid"`
}

type attachmentJSON struct {
	Name     string `json:"name"`
	MIMEType string `json:"mime_type,omitempty"`
	Bytes    int64  `json:"size_bytes"`
	File     string `json:"file,omitempty"` // relative to the conversation's folder
	Missing  bool   `json:"missing"`
}

// conversationJSON is messages.json.
type conversationJSON struct {
	Name        string        `json:"name"`
	Identifier  string        `json:"identifier"`
	DisplayName string        `json:"display_name,omitempty"`
	Members     []string      `json:"members"`
	Messages    []messageJSON `json:"messages"`
}

// WriteJSON writes messages.json.
func (c *Conversation) WriteJSON(w io.Writer) error {
	out := conversationJSON{Name: c.Name, Identifier: c.Chat.Identifier, DisplayName: c.Chat.DisplayName,
		Members: c.Chat.Members, Messages: make([]messageJSON, 0, len(c.Messages))}
	for _, m := range c.Messages {
		j := messageJSON{ID: m.RowID, GUID: m.GUID, Date: m.Date, FromMe: m.FromMe, Sender: m.Sender,
			SenderName: c.sender(m), Service: m.Service, Text: m.Text, Links: m.Links, Mentions: m.Mentions}
		if !m.Edited.IsZero() {
			j.Edited = &m.Edited
		}
		for _, e := range m.Edits {
			j.Edits = append(j.Edits, editJSON{Date: e.Date, Text: e.Text})
		}
		if !m.Retracted.IsZero() {
			j.Unsent = &m.Retracted
		}
		if r := m.Reaction; r != nil {
			j.Reaction = &reactionJSON{Kind: string(r.Kind), Removed: r.Removed, Emoji: r.Emoji, Target: r.Target}
		}
		for _, a := range m.Attachments {
			aj := attachmentJSON{Name: a.TransferName, MIMEType: a.MIMEType, Bytes: a.TotalBytes, Missing: a.Missing}
			if f := c.Files[a.RowID]; f != "" {
				aj.File = "attachments/" + f
			}
			j.Attachments = append(j.Attachments, aj)
		}
		out.Messages = append(out.Messages, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
