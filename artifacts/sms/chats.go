package sms

import (
	"context"
	"database/sql"
	"fmt"

	"iosbackup/artifacts/internal/sqlitex"
)

// Chats lists the conversations with their members and message counts, in ROWID
// order, without reading any message's body.
func (d *DB) Chats(ctx context.Context) ([]Chat, error) {
	if d.byHandle {
		return d.handleChats(ctx)
	}
	s := d.schema
	q := fmt.Sprintf(`SELECT c.ROWID, %s, %s, %s, %s FROM chat c ORDER BY c.ROWID`,
		s.Col("chat", "c", "guid"), s.Col("chat", "c", "chat_identifier"),
		s.Col("chat", "c", "display_name"), s.Col("chat", "c", "service_name"))
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return nil, d.errorf("chats", err)
	}
	var chats []Chat
	index := map[int64]int{}
	for rows.Next() {
		var c Chat
		var guid, ident, name, svc sql.NullString
		if err := rows.Scan(&c.ID, &guid, &ident, &name, &svc); err != nil {
			d.skipped.Add(1)
			continue
		}
		c.GUID, c.Identifier, c.DisplayName, c.Service = guid.String, ident.String, name.String, svc.String
		index[c.ID] = len(chats)
		chats = append(chats, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, d.errorf("chats", err)
	}

	if s.Has("chat_handle_join", "chat_id", "handle_id") {
		rows, err := d.db.QueryContext(ctx, `SELECT j.chat_id, h.id FROM chat_handle_join j
			JOIN handle h ON h.ROWID = j.handle_id ORDER BY j.chat_id, h.ROWID`)
		if err != nil {
			return nil, d.errorf("chat members", err)
		}
		for rows.Next() {
			var id int64
			var h sql.NullString
			if err := rows.Scan(&id, &h); err != nil {
				d.skipped.Add(1)
				continue
			}
			if i, ok := index[id]; ok && h.String != "" {
				chats[i].Members = append(chats[i].Members, h.String)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, d.errorf("chat members", err)
		}
	}

	// Only integer dates count for the latest: one damaged row must not lose the
	// chat's count.
	date := s.Col("message", "m", "date")
	rows, err = d.db.QueryContext(ctx, fmt.Sprintf(`SELECT j.chat_id, count(*), max(CASE WHEN typeof(%s) = 'integer' THEN %s END)
		FROM chat_message_join j JOIN message m ON m.ROWID = j.message_id GROUP BY j.chat_id`, date, date))
	if err != nil {
		return nil, d.errorf("message counts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var last sql.NullInt64
		if err := rows.Scan(&id, &n, &last); err != nil {
			continue
		}
		if i, ok := index[id]; ok {
			chats[i].Messages = int(n)
			chats[i].Last = sqlitex.AppleTime(last.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, d.errorf("message counts", err)
	}
	return chats, nil
}

// handleChats makes one conversation per handle, for databases without chat tables.
func (d *DB) handleChats(ctx context.Context) ([]Chat, error) {
	s := d.schema
	rows, err := d.db.QueryContext(ctx, fmt.Sprintf(`SELECT h.ROWID, h.id, %s, count(m.ROWID), max(%s)
		FROM handle h LEFT JOIN message m ON m.handle_id = h.ROWID GROUP BY h.ROWID ORDER BY h.ROWID`,
		s.Col("handle", "h", "service"), s.Col("message", "m", "date")))
	if err != nil {
		return nil, d.errorf("handles", err)
	}
	defer rows.Close()
	var chats []Chat
	for rows.Next() {
		var c Chat
		var id, svc sql.NullString
		var last sql.NullInt64
		if err := rows.Scan(&c.ID, &id, &svc, &c.Messages, &last); err != nil {
			d.skipped.Add(1)
			continue
		}
		c.Identifier, c.Service, c.Members = id.String, svc.String, []string{id.String}
		c.Last = sqlitex.AppleTime(last.Int64)
		chats = append(chats, c)
	}
	if err := rows.Err(); err != nil {
		return nil, d.errorf("handles", err)
	}
	return chats, nil
}

func (d *DB) errorf(what string, err error) error {
	return fmt.Errorf("messages: %s/%s: %s: %w", Domain, Path, what, err)
}
