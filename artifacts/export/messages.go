package export

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"iosbackup/artifacts/sms"
	"iosbackup/backup"
)

// MessageFormats are the formats the messages export writes.
var MessageFormats = []string{"txt", "html", "json"}

// Messages writes DEST/messages/<conversation>/messages.{txt,html,json} and
// attachments/ for each conversation with messages in range.
func Messages(ctx context.Context, b *backup.Backup, dir string, opt Options) (Stats, error) {
	var st Stats
	formats := opt.Formats
	if formats == nil {
		formats = []string{"txt", "html"}
	}
	for _, f := range formats {
		if !slices.Contains(MessageFormats, f) {
			return st, fmt.Errorf("export messages: format %q: want one of %s", f, strings.Join(MessageFormats, ", "))
		}
	}
	db, err := sms.Open(ctx, b)
	if err != nil {
		return st, err
	}
	defer db.Close()
	chats, err := db.Chats(ctx)
	if err != nil {
		return st, err
	}
	chats = selectChats(chats, opt)
	if opt.Conversation != "" && len(chats) == 0 {
		return st, fmt.Errorf("export messages: no conversation %q", opt.Conversation)
	}
	var total, done int64
	for _, c := range chats {
		total += int64(c.Messages)
	}
	d, err := openDest(dir, &st)
	if err != nil {
		return st, err
	}
	defer d.Close()
	used := map[string]bool{}
	for _, c := range chats {
		var msgs []*sms.Message
		err := db.Messages(ctx, c.ID, func(m *sms.Message) error {
			done++
			if opt.inRange(m.Date) {
				msgs = append(msgs, m)
			}
			if done%256 == 0 {
				opt.progress(done, total)
			}
			return ctx.Err()
		})
		if err != nil {
			return st, err
		}
		if len(msgs) == 0 {
			continue
		}
		conv := NewConversation(c, msgs, opt.Names)
		name := conv.Name
		for n := 2; used[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s (%d)", conv.Name, n)
		}
		used[strings.ToLower(name)] = true
		conv.Name = name
		if err := writeConversation(d, b, conv, formats); err != nil {
			return st, err
		}
		st.Items++
		st.Records += len(msgs)
		opt.progress(done, total)
	}
	opt.progress(total, total)
	st.Skipped, st.Damaged = db.Skipped(), db.Damaged()
	return st, nil
}

func writeConversation(d *dest, b *backup.Backup, conv *Conversation, formats []string) error {
	base := "messages/" + conv.Name
	if err := d.mkdir(base); err != nil {
		return err
	}
	for _, f := range formats {
		var fill func(io.Writer) error
		switch f {
		case "txt":
			fill = conv.WriteText
		case "html":
			fill = conv.WriteHTML
		case "json":
			fill = conv.WriteJSON
		}
		if err := d.write(base+"/messages."+f, fill); err != nil {
			return err
		}
	}
	for _, m := range conv.Messages {
		for _, a := range m.Attachments {
			name := conv.Files[a.RowID]
			if name == "" {
				d.stats.Missing++
				continue
			}
			if err := d.mkdir(base + "/attachments"); err != nil {
				return err
			}
			when := a.Created
			if when.IsZero() {
				when = m.Date
			}
			if err := d.copyFile(b, a.Domain, a.Path, base+"/attachments/"+name, when); err != nil {
				return err
			}
		}
	}
	return nil
}

// selectChats keeps the chats --conversation names.
func selectChats(chats []sms.Chat, opt Options) []sms.Chat {
	if opt.Conversation == "" {
		return chats
	}
	want := strings.ToLower(opt.Conversation)
	var out []sms.Chat
	for _, c := range chats {
		match := strings.ToLower(ConversationName(c, opt.Names)) == want || strings.ToLower(c.Identifier) == want
		for _, m := range c.Members {
			if strings.ToLower(m) == want || (opt.Names != nil && strings.ToLower(opt.Names(m)) == want) {
				match = true
			}
		}
		if match {
			out = append(out, c)
		}
	}
	return out
}
