package gen

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The Messages database (HomeDomain Library/SMS/sms.db) as each iOS release lays it
// out. Sources of the schemas:
//   - iOS 10.2 base tables and columns: iphonebackuptools schemas/messages/iOS10.2.sql
//     (richinfante/iphonebackuptools), which is a dump of a real sms.db;
//   - columns read per version (date_edited, date_retracted from iOS 16,
//     associated_message_emoji from iOS 17, thread_originator_guid from iOS 14):
//     imessage-exporter's imessage-database src/tables/messages/message.rs;
//   - the queries of mvt (src/mvt/ios/modules/mixed/sms.py, sms_attachments.py) and
//     iLEAPP (scripts/artifacts/sms.py), which need the chat/handle/attachment joins;
//   - dates: seconds since 2001 before iOS 11, nanoseconds from iOS 11 (all of them);
//     attachment.created_date stays in seconds.

// smsColumns returns the message table's columns for iOS major version ver.
func smsColumns(ver int) []string {
	cols := []string{
		"ROWID INTEGER PRIMARY KEY AUTOINCREMENT", "guid TEXT UNIQUE NOT NULL", "text TEXT",
		"replace INTEGER DEFAULT 0", "service_center TEXT", "handle_id INTEGER DEFAULT 0",
		"subject TEXT", "country TEXT", "attributedBody BLOB", "version INTEGER DEFAULT 0",
		"type INTEGER DEFAULT 0", "service TEXT", "account TEXT", "account_guid TEXT",
		"error INTEGER DEFAULT 0", "date INTEGER", "date_read INTEGER", "date_delivered INTEGER",
		"is_delivered INTEGER DEFAULT 0", "is_finished INTEGER DEFAULT 0", "is_emote INTEGER DEFAULT 0",
		"is_from_me INTEGER DEFAULT 0", "is_empty INTEGER DEFAULT 0", "is_delayed INTEGER DEFAULT 0",
		"is_auto_reply INTEGER DEFAULT 0", "is_prepared INTEGER DEFAULT 0", "is_read INTEGER DEFAULT 0",
		"is_system_message INTEGER DEFAULT 0", "is_sent INTEGER DEFAULT 0", "has_dd_results INTEGER DEFAULT 0",
		"is_service_message INTEGER DEFAULT 0", "is_forward INTEGER DEFAULT 0", "was_downgraded INTEGER DEFAULT 0",
		"is_archive INTEGER DEFAULT 0", "cache_has_attachments INTEGER DEFAULT 0", "cache_roomnames TEXT",
		"was_data_detected INTEGER DEFAULT 0", "was_deduplicated INTEGER DEFAULT 0",
		"is_audio_message INTEGER DEFAULT 0", "is_played INTEGER DEFAULT 0", "date_played INTEGER",
		"item_type INTEGER DEFAULT 0", "other_handle INTEGER DEFAULT 0", "group_title TEXT",
		"group_action_type INTEGER DEFAULT 0", "share_status INTEGER DEFAULT 0",
		"share_direction INTEGER DEFAULT 0", "is_expirable INTEGER DEFAULT 0", "expire_state INTEGER DEFAULT 0",
		"message_action_type INTEGER DEFAULT 0", "message_source INTEGER DEFAULT 0",
	}
	if ver >= 10 { // tapbacks, effects and iMessage apps arrived with iOS 10
		cols = append(cols, "associated_message_guid TEXT", "associated_message_type INTEGER DEFAULT 0",
			"balloon_bundle_id TEXT", "payload_data BLOB", "expressive_send_style_id TEXT",
			"associated_message_range_location INTEGER DEFAULT 0", "associated_message_range_length INTEGER DEFAULT 0",
			"time_expressive_send_played INTEGER", "message_summary_info BLOB")
	}
	if ver >= 11 { // Messages in iCloud
		cols = append(cols, "ck_sync_state INTEGER DEFAULT 0", "ck_record_id TEXT", "ck_record_change_tag TEXT",
			"destination_caller_id TEXT", "sr_ck_sync_state INTEGER DEFAULT 0", "sr_ck_record_id TEXT",
			"sr_ck_record_change_tag TEXT", "is_corrupt INTEGER DEFAULT 0", "reply_to_guid TEXT",
			"sort_id INTEGER")
	}
	if ver >= 14 { // inline replies and mentions
		cols = append(cols, "is_spam INTEGER DEFAULT 0", "has_unseen_mention INTEGER DEFAULT 0",
			"thread_originator_guid TEXT", "thread_originator_part TEXT", "syndication_ranges TEXT",
			"was_delivered_quietly INTEGER DEFAULT 0", "did_notify_recipient INTEGER DEFAULT 0",
			"synced_syndication_ranges TEXT")
	}
	if ver >= 16 { // edit and unsend
		cols = append(cols, "date_retracted INTEGER DEFAULT 0", "date_edited INTEGER DEFAULT 0",
			"was_detonated INTEGER DEFAULT 0", "part_count INTEGER", "is_stewie INTEGER DEFAULT 0",
			"is_kt_verified INTEGER DEFAULT 0", "is_sos INTEGER DEFAULT 0", "is_critical INTEGER DEFAULT 0",
			"bia_reference_id TEXT DEFAULT NULL", "fallback_hash TEXT DEFAULT NULL")
	}
	if ver >= 17 { // emoji and sticker tapbacks, satellite
		cols = append(cols, "associated_message_emoji TEXT DEFAULT NULL",
			"is_pending_satellite_send INTEGER DEFAULT 0", "needs_relay INTEGER DEFAULT 0",
			"schedule_type INTEGER DEFAULT 0", "schedule_state INTEGER DEFAULT 0",
			"sent_or_received_off_grid INTEGER DEFAULT 0")
	}
	if ver >= 18 { // send later, recently deleted recovery
		cols = append(cols, "date_recovered INTEGER DEFAULT 0", "is_time_sensitive INTEGER DEFAULT 0",
			"ck_chat_id TEXT")
	}
	return cols
}

func smsSchema(ver int) []string {
	handle := "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT"
	if ver >= 14 {
		handle += ", person_centric_id TEXT"
	}
	chat := "CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT, account_login TEXT, is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT, group_id TEXT, is_filtered INTEGER DEFAULT 0, successful_query INTEGER"
	if ver >= 11 {
		chat += ", engram_id TEXT, server_change_token TEXT, ck_sync_state INTEGER DEFAULT 0, original_group_id TEXT, last_read_message_timestamp INTEGER DEFAULT 0, cloudkit_record_id TEXT, last_addressed_sim_id TEXT, is_blackholed INTEGER DEFAULT 0"
	}
	if ver >= 16 {
		chat += ", syndication_date INTEGER DEFAULT 0, syndication_type INTEGER DEFAULT 0"
	}
	if ver >= 17 {
		chat += ", is_recovered INTEGER DEFAULT 0"
	}
	attachment := "CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, guid TEXT UNIQUE NOT NULL, created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0"
	if ver >= 10 {
		attachment += ", is_sticker INTEGER DEFAULT 0, sticker_user_info BLOB, attribution_info BLOB, hide_attachment INTEGER DEFAULT 0"
	}
	if ver >= 11 {
		attachment += ", ck_sync_state INTEGER DEFAULT 0, ck_server_change_token_blob BLOB, ck_record_id TEXT, original_guid TEXT UNIQUE NOT NULL"
	}
	if ver >= 16 {
		attachment += ", is_commsafety_sensitive INTEGER DEFAULT 0"
	}
	if ver >= 18 {
		attachment += ", emoji_image_content_identifier TEXT DEFAULT NULL, emoji_image_short_description TEXT DEFAULT NULL"
	}
	return []string{
		handle + ", UNIQUE (id, service))",
		"CREATE TABLE message (" + strings.Join(smsColumns(ver), ", ") + ")",
		chat + ")",
		attachment + ")",
		"CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id))",
		"CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, PRIMARY KEY (chat_id, message_id))",
		"CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id))",
		"CREATE TABLE deleted_messages (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, guid TEXT NOT NULL)",
		"CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key))",
	}
}

// iosMajor is the major version of a ProductVersion such as "14.8".
func iosMajor(v string) int {
	n, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil || n <= 0 {
		return 14
	}
	return n
}

// smsHandles are the other people: ROWID = index + 1.
var smsHandles = []string{"+15550100123", "alice@example.com", "+447700900456", "bob@example.org", "+972501234567"}

var smsTexts = []string{
	"Are we still on for lunch?", "Yes! 12:30 at the usual place", "Running 5 min late 🙈",
	"Can you send me the report?", "Sent it to your email", "Thanks!", "Call me when you land",
	"Landed, taking a taxi now", "Happy birthday! 🎂", "See you tomorrow", "The code is 4711",
	"Did you see the game last night?", "Où est la gare ?", "Ok", "Picked up the keys",
}

// smsChats are the conversations: one per handle, a named group and an unnamed one.
func smsChats() []Chat {
	var chats []Chat
	for i, h := range smsHandles {
		chats = append(chats, Chat{ID: int64(i + 1), GUID: smsService(h) + ";-;" + h, Identifier: h,
			Service: smsService(h), Members: []string{h}})
	}
	chats = append(chats,
		Chat{ID: 6, GUID: "iMessage;+;chat100200300", Identifier: "chat100200300", DisplayName: "Family 👪",
			Service: "iMessage", Members: []string{smsHandles[0], smsHandles[1], smsHandles[3]}},
		Chat{ID: 7, GUID: "iMessage;+;chat400500600", Identifier: "chat400500600",
			Service: "iMessage", Members: []string{smsHandles[2], smsHandles[3]}})
	return chats
}

func smsService(h string) string {
	if strings.HasPrefix(h, "+") && h != smsHandles[4] {
		return "SMS"
	}
	return "iMessage"
}

func handleRowID(h string) int64 {
	for i, x := range smsHandles {
		if x == h {
			return int64(i + 1)
		}
	}
	return 0
}

// smsFile is an attachment file the plan must add to the backup.
type smsFile struct {
	domain, path string
	data         []byte
}

// smsDatabase builds sms.db for iOS major version ver and returns it with the
// messages' truth and the attachment files present in the backup. count ordinary
// messages (0: a dozen or so) come before the special cases. Revision r adds 3
// messages per revision, as a phone used between two backups would.
func smsDatabase(seed int64, revision, ver, count int, t0 int64) ([]byte, []Message, []Chat, []smsFile, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x736d73))
	chats := smsChats()
	n := 12 + rng.IntN(8)
	if count > 0 {
		n = count
	}
	var msgs []Message
	date := t0 - 20*day
	stored := func(unix int64) int64 {
		s := unix - appleEpoch
		if ver >= 11 {
			s *= 1e9
		}
		return s
	}
	guid := func(row int64) string { return fmt.Sprintf("%08X-0000-4000-8000-%012X", uint32(seed), row) }
	add := func(m Message) *Message {
		m.RowID = int64(len(msgs) + 1)
		m.GUID = guid(m.RowID)
		if m.Shown == "" {
			m.Shown = m.Text
		}
		msgs = append(msgs, m)
		return &msgs[len(msgs)-1]
	}
	sender := func(c Chat, fromMe bool) string {
		if fromMe && len(c.Members) > 1 {
			return "" // from me in a group: handle_id 0
		}
		if len(c.Members) == 1 {
			return c.Members[0] // a 1:1 chat's messages all carry the other party
		}
		return c.Members[rng.IntN(len(c.Members))]
	}
	// iOS 16+ often leaves text NULL and keeps the body in attributedBody only.
	bodyOnly := func(i int) bool { return ver >= 16 && i%3 == 0 }
	for i := range n {
		date += int64(rng.IntN(day)) * 20 / int64(max(n, 20)) // n messages over about 20 days
		c := chats[rng.IntN(len(chats))]
		fromMe := rng.IntN(2) == 0
		text := smsTexts[rng.IntN(len(smsTexts))]
		m := Message{ChatID: c.ID, FromMe: fromMe, Handle: sender(c, fromMe), Text: text, Date: stored(date)}
		if ver >= 12 {
			m.Body = attributedBody([]tsRun{{text: text}})
		}
		if bodyOnly(i) {
			m.Text, m.TextNull, m.Shown = "", true, text
		}
		add(m)
	}
	// The cases that break tools, after the ordinary ones.
	next := func() int64 { date += 3600 + int64(rng.IntN(3600)); return stored(date) }
	add(Message{ChatID: 5, Handle: smsHandles[4], Text: "שלום! מה שלומך?", Date: next()}) // right to left
	add(Message{ChatID: 5, Handle: smsHandles[4], FromMe: true, Text: "مرحبا بالعالم 🌍 👨‍👩‍👧", Date: next()})
	if ver >= 14 {
		runs := []tsRun{{text: "Hey "}, {text: "Bob", mention: smsHandles[3]}, {text: ", look at this"}}
		m := Message{ChatID: 6, Handle: smsHandles[1], Text: "Hey Bob, look at this", Date: next(),
			Body: attributedBody(runs), Mentions: []string{smsHandles[3]}}
		if ver >= 16 {
			m.Text, m.TextNull, m.Shown = "", true, "Hey Bob, look at this"
		}
		add(m)
	}
	if ver >= 12 {
		const u = "https://example.com/article?id=7"
		m := Message{ChatID: 2, Handle: smsHandles[1], FromMe: true, Text: "Read " + u, Date: next(),
			Body: attributedBody([]tsRun{{text: "Read "}, {text: u, link: u}}), Links: []string{u}}
		if ver >= 16 {
			m.Text, m.TextNull, m.Shown = "", true, m.Text
		}
		add(m)
	}

	// Attachments: one whose file the backup holds (MediaDomain), one it does not.
	var files []smsFile
	attDir := func(g string) string {
		return fmt.Sprintf("Library/SMS/Attachments/%02x/%02d/%s", seed&0xff, seed%100, g)
	}
	photoGUID := fmt.Sprintf("%08X-AAAA-4000-8000-%012X", uint32(seed), 1)
	photo := MessageAttachment{GUID: photoGUID, Filename: "~/" + attDir(photoGUID) + "/IMG_5001.JPG",
		TransferName: "IMG_5001.JPG", MIMEType: "image/jpeg", Domain: mediaDomain, Path: attDir(photoGUID) + "/IMG_5001.JPG"}
	img := jpegImage(seed, 300)
	photo.TotalBytes = int64(len(img))
	files = append(files, smsFile{mediaDomain, photo.Path, img})
	photoMsg := add(Message{ChatID: 1, Handle: smsHandles[0], Text: "\uFFFC", Date: next(), Attachments: []MessageAttachment{photo}})
	photoMsgGUID := photoMsg.GUID
	voiceGUID := fmt.Sprintf("%08X-AAAA-4000-8000-%012X", uint32(seed), 2)
	voice := MessageAttachment{GUID: voiceGUID, Filename: "~/" + attDir(voiceGUID) + "/Audio Message.caf",
		TransferName: "Audio Message.caf", MIMEType: "audio/x-caf", TotalBytes: 48213, Missing: true}
	add(Message{ChatID: 3, Handle: smsHandles[2], Text: "\uFFFC", Date: next(), Attachments: []MessageAttachment{voice}})

	if ver >= 10 {
		add(Message{ChatID: 1, Handle: smsHandles[0], FromMe: true, Text: "Loved an image", Date: next(),
			ReactionType: 2000, ReactionTarget: "p:0/" + photoMsgGUID})
	}
	if ver >= 16 {
		d := next()
		// message_summary_info keeps the versions (imessage-exporter's
		// message_types/edited.rs describes it): "ec" maps part 0 to its versions,
		// oldest first, each "d" (seconds since 2001) and "t" (a typedstream body).
		sent := float64(d/1e9) + 0.25
		history := []string{"See you at 7", "See you at 8, not 7"}
		summary := mustBinaryPlist(map[string]any{
			"amc": 0, "ust": true, "ep": []int{0},
			"otr": map[string]any{"0": map[string]any{"lo": 0, "le": len(history[0])}},
			"ec": map[string]any{"0": []any{
				map[string]any{"d": sent, "t": attributedBody([]tsRun{{text: history[0]}})},
				map[string]any{"d": sent + 90, "t": attributedBody([]tsRun{{text: history[1]}})},
			}},
		})
		add(Message{ChatID: 2, Handle: smsHandles[1], FromMe: true, TextNull: true, Shown: history[1],
			Date: d, DateEdited: d + stored(appleEpoch+90), Body: attributedBody([]tsRun{{text: history[1]}}),
			Summary: summary, EditHistory: history})
		d = next()
		add(Message{ChatID: 4, Handle: smsHandles[3], FromMe: true, TextNull: true, Date: d,
			DateRetracted: d + stored(appleEpoch+30)})
	}
	if ver >= 17 {
		add(Message{ChatID: 1, Handle: smsHandles[0], Text: "Reacted 🔥 to an image", Date: next(),
			ReactionType: 2006, ReactionTarget: "p:0/" + photoMsgGUID, ReactionEmoji: "🔥"})
		add(Message{ChatID: 1, Handle: smsHandles[0], FromMe: true, Text: "Removed a heart from an image", Date: next(),
			ReactionType: 3000, ReactionTarget: "p:0/" + photoMsgGUID})
	}
	for i := range 3 * revision {
		add(Message{ChatID: 1, Handle: smsHandles[0], FromMe: i%2 == 0, Text: smsTexts[i%len(smsTexts)],
			Date: stored(t0 + int64(i+1)*3600)}) // after the first backup
	}

	img2, err := sqliteImage(func(tx *sql.Tx) error { return writeSMS(tx, ver, chats, msgs) })
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("build sms.db: %w", err)
	}
	return img2, msgs, chats, files, nil
}

func writeSMS(tx *sql.Tx, ver int, chats []Chat, msgs []Message) error {
	if err := execAll(tx, smsSchema(ver)...); err != nil {
		return err
	}
	for i, h := range smsHandles {
		if _, err := tx.Exec("INSERT INTO handle (ROWID, id, country, service, uncanonicalized_id) VALUES (?, ?, 'us', ?, ?)",
			i+1, h, smsService(h), h); err != nil {
			return fmt.Errorf("insert handle: %w", err)
		}
	}
	for _, c := range chats {
		if _, err := tx.Exec("INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name, display_name) VALUES (?, ?, ?, ?, ?, ?)",
			c.ID, c.GUID, map[bool]int{true: 43, false: 45}[len(c.Members) > 1], c.Identifier, c.Service, c.DisplayName); err != nil {
			return fmt.Errorf("insert chat: %w", err)
		}
		for _, h := range c.Members {
			if _, err := tx.Exec("INSERT INTO chat_handle_join (chat_id, handle_id) VALUES (?, ?)", c.ID, handleRowID(h)); err != nil {
				return fmt.Errorf("insert chat_handle_join: %w", err)
			}
		}
	}
	att := int64(0)
	for _, m := range msgs {
		cols := []string{"ROWID", "guid", "text", "attributedBody", "handle_id", "service", "date", "is_from_me", "cache_has_attachments"}
		var text any = m.Text
		if m.TextNull {
			text = nil
		}
		var body any
		if m.Body != nil {
			body = m.Body
		}
		vals := []any{m.RowID, m.GUID, text, body, handleRowID(m.Handle), "iMessage", m.Date, m.FromMe, len(m.Attachments) > 0}
		if m.ReactionType != 0 {
			cols = append(cols, "associated_message_type", "associated_message_guid")
			vals = append(vals, m.ReactionType, m.ReactionTarget)
		}
		if m.ReactionEmoji != "" {
			cols = append(cols, "associated_message_emoji")
			vals = append(vals, m.ReactionEmoji)
		}
		if m.DateEdited != 0 {
			cols = append(cols, "date_edited")
			vals = append(vals, m.DateEdited)
		}
		if m.Summary != nil {
			cols = append(cols, "message_summary_info")
			vals = append(vals, m.Summary)
		}
		if m.DateRetracted != 0 {
			cols = append(cols, "date_retracted")
			vals = append(vals, m.DateRetracted)
		}
		q := "INSERT INTO message (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
		if _, err := tx.Exec(q, vals...); err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		if _, err := tx.Exec("INSERT INTO chat_message_join (chat_id, message_id) VALUES (?, ?)", m.ChatID, m.RowID); err != nil {
			return fmt.Errorf("insert chat_message_join: %w", err)
		}
		for _, a := range m.Attachments {
			att++
			created := (m.Date / 1e9)
			if ver < 11 {
				created = m.Date
			}
			acols := "ROWID, guid, created_date, filename, mime_type, transfer_name, total_bytes"
			avals := []any{att, a.GUID, created, a.Filename, a.MIMEType, a.TransferName, a.TotalBytes}
			if ver >= 11 {
				acols += ", original_guid"
				avals = append(avals, a.GUID)
			}
			if _, err := tx.Exec("INSERT INTO attachment ("+acols+") VALUES (?"+strings.Repeat(", ?", len(avals)-1)+")", avals...); err != nil {
				return fmt.Errorf("insert attachment: %w", err)
			}
			if _, err := tx.Exec("INSERT INTO message_attachment_join (message_id, attachment_id) VALUES (?, ?)", m.RowID, att); err != nil {
				return fmt.Errorf("insert message_attachment_join: %w", err)
			}
		}
	}
	return nil
}
