package sms

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"strings"

	"iosbackup/artifacts/internal/sqlitex"
	"iosbackup/artifacts/typedstream"
)

// Messages calls fn with each message of chat id in date order (ROWID order among
// equal dates), decoding bodies one at a time. A row that cannot be read is skipped
// and counted (Skipped); an attributedBody that cannot be decoded leaves the text
// empty and is counted (Damaged). An error from fn stops the walk and is returned.
func (d *DB) Messages(ctx context.Context, chatID int64, fn func(*Message) error) error {
	atts, err := d.attachments(ctx, chatID)
	if err != nil {
		return err
	}
	s := d.schema
	col := func(c string) string { return s.Col("message", "m", c) }
	from := `FROM chat_message_join j JOIN message m ON m.ROWID = j.message_id
		LEFT JOIN handle h ON h.ROWID = m.handle_id WHERE j.chat_id = ?`
	if d.byHandle {
		from = `FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id WHERE m.handle_id = ?`
	}
	q := fmt.Sprintf(`SELECT m.ROWID, %s, %s, %s, h.id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
		%s ORDER BY %s, m.ROWID`,
		col("guid"), col("text"), col("attributedBody"), col("service"), col("date"),
		col("is_from_me"), col("date_edited"), col("date_retracted"),
		col("associated_message_guid"), col("associated_message_type"),
		col("associated_message_emoji"), col("subject"), col("message_summary_info"), from, col("date"))
	rows, err := d.db.QueryContext(ctx, q, chatID)
	if err != nil {
		return d.errorf("messages", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			m                                  Message
			guid, text, handle, service, subj  sql.NullString
			assocGUID, emoji                   sql.NullString
			body, summary                      []byte
			date, edited, retracted, assocType sql.NullInt64
			fromMe                             sql.NullBool
		)
		if err := rows.Scan(&m.RowID, &guid, &text, &body, &handle, &service, &date, &fromMe,
			&edited, &retracted, &assocGUID, &assocType, &emoji, &subj, &summary); err != nil {
			d.skipped.Add(1)
			continue
		}
		m.GUID, m.Service, m.Subject, m.FromMe = guid.String, service.String, subj.String, fromMe.Bool
		if !m.FromMe {
			m.Sender = handle.String
		}
		m.Date = sqlitex.AppleTime(date.Int64)
		m.Edited = sqlitex.AppleTime(edited.Int64)
		m.Retracted = sqlitex.AppleTime(retracted.Int64)
		m.Text = text.String
		if len(body) > 0 {
			if a, err := typedstream.DecodeAttributedString(body); err == nil {
				if !text.Valid {
					m.Text = a.Text
				}
				m.Links, m.Mentions = a.Links(), a.Mentions()
			} else if !text.Valid {
				d.damaged.Add(1)
			}
		}
		if !m.Edited.IsZero() {
			m.Edits = editHistory(summary)
		}
		m.Reaction = reaction(assocType.Int64, assocGUID.String, emoji.String)
		m.Attachments = atts[m.RowID]
		if err := fn(&m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return d.errorf("messages", err)
	}
	return nil
}

// reaction decodes associated_message_type: 2000-2007 add a tapback, 3000-3007 remove
// one; the target GUID carries a part prefix ("p:0/GUID", "bp:GUID").
func reaction(t int64, target, emoji string) *Reaction {
	removed := false
	switch {
	case t >= 2000 && t < 2000+int64(len(reactionKinds)):
		t -= 2000
	case t >= 3000 && t < 3000+int64(len(reactionKinds)):
		t -= 3000
		removed = true
	default:
		return nil
	}
	if i := strings.LastIndexByte(target, '/'); i >= 0 {
		target = target[i+1:]
	} else if i := strings.IndexByte(target, ':'); i >= 0 {
		target = target[i+1:]
	}
	return &Reaction{Kind: reactionKinds[t], Removed: removed, Emoji: emoji, Target: target}
}

// attachments reads the attachments of a chat's messages, by message ROWID.
func (d *DB) attachments(ctx context.Context, chatID int64) (map[int64][]Attachment, error) {
	s := d.schema
	if !s.Has("attachment", "ROWID") || !s.Has("message_attachment_join", "message_id", "attachment_id") {
		return nil, nil
	}
	col := func(c string) string { return s.Col("attachment", "a", c) }
	from := `FROM chat_message_join j JOIN message_attachment_join x ON x.message_id = j.message_id WHERE j.chat_id = ?`
	if d.byHandle {
		from = `FROM message m JOIN message_attachment_join x ON x.message_id = m.ROWID WHERE m.handle_id = ?`
	}
	from = strings.Replace(from, " WHERE", " JOIN attachment a ON a.ROWID = x.attachment_id WHERE", 1)
	q := fmt.Sprintf(`SELECT x.message_id, a.ROWID, %s, %s, %s, %s, %s, %s %s ORDER BY x.message_id, a.ROWID`,
		col("guid"), col("filename"), col("transfer_name"), col("mime_type"), col("total_bytes"), col("created_date"), from)
	rows, err := d.db.QueryContext(ctx, q, chatID)
	if err != nil {
		return nil, d.errorf("attachments", err)
	}
	defer rows.Close()
	out := map[int64][]Attachment{}
	for rows.Next() {
		var (
			msg                        int64
			a                          Attachment
			guid, name, transfer, mime sql.NullString
			size, created              sql.NullInt64
		)
		if err := rows.Scan(&msg, &a.RowID, &guid, &name, &transfer, &mime, &size, &created); err != nil {
			d.skipped.Add(1)
			continue
		}
		a.GUID, a.Filename, a.TransferName, a.MIMEType = guid.String, name.String, transfer.String, mime.String
		a.TotalBytes, a.Created = size.Int64, sqlitex.AppleTime(created.Int64)
		if a.TransferName == "" {
			a.TransferName = path.Base(a.Filename)
		}
		a.Domain, a.Path, a.Missing = d.locate(a.Filename)
		out[msg] = append(out[msg], a)
	}
	if err := rows.Err(); err != nil {
		return nil, d.errorf("attachments", err)
	}
	return out, nil
}

// locate maps an attachment's filename to its file in the backup. "~/" and
// "/var/mobile/" both stand for the mobile user's home, which MediaDomain holds for
// Library/SMS/Attachments (some backups put it in HomeDomain).
func (d *DB) locate(filename string) (domain, rel string, missing bool) {
	rel = filename
	for _, p := range []string{"~/", "/var/mobile/", "/private/var/mobile/"} {
		if strings.HasPrefix(rel, p) {
			rel = rel[len(p):]
			break
		}
	}
	if rel == "" || strings.HasPrefix(rel, "/") {
		return "", "", true
	}
	for _, dom := range []string{"MediaDomain", "HomeDomain"} {
		if _, ok := d.b.Index.Lookup(dom, rel); ok {
			return dom, rel, false
		}
	}
	return "", "", true
}
