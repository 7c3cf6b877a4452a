package sms

import (
	"context"
	"path/filepath"
	"testing"

	"iosbackup/backup"
	"iosbackup/internal/gen"
)

// BenchmarkLargeDatabase measures, on a generated 100,000-message sms.db, listing the
// chats (no message decoded) and reading the largest chat's messages.
//
//	go test -run XXX -bench LargeDatabase -benchtime 3x ./artifacts/sms/
func BenchmarkLargeDatabase(b *testing.B) {
	truth, err := gen.Generate(filepath.Join(b.TempDir(), "backup"), gen.Options{Seed: 1, ProductVersion: "17.5", Messages: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	bk, err := backup.Open(truth.Dir, backup.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := Open(ctx, bk)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var largest Chat
	b.Run("Chats", func(b *testing.B) {
		for b.Loop() {
			chats, err := db.Chats(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range chats {
				if c.Messages > largest.Messages {
					largest = c
				}
			}
		}
	})
	b.Run("LargestChat", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := db.Messages(ctx, largest.ID, func(*Message) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != largest.Messages {
				b.Fatalf("%d messages, chat lists %d", n, largest.Messages)
			}
		}
		b.ReportMetric(float64(largest.Messages), "messages")
	})
}

// A 100,000-message database reads whole through the read-only VFS: SQLite's sorts
// spill to temporary files on large queries, which the VFS cannot hold (a "disk I/O
// error" before temp_store was set to memory).
func TestLargeDatabaseReads(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating 100,000 messages takes seconds")
	}
	truth, err := gen.Generate(filepath.Join(t.TempDir(), "backup"), gen.Options{Seed: 2, ProductVersion: "18.1", Messages: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	bk, err := backup.Open(truth.Dir, backup.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := Open(ctx, bk)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	chats, err := db.Chats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range chats {
		n := 0
		if err := db.Messages(ctx, c.ID, func(*Message) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != c.Messages {
			t.Errorf("chat %d: read %d, listed %d", c.ID, n, c.Messages)
		}
		total += n
	}
	if total != len(truth.Messages) || total < 100_000 {
		t.Errorf("read %d messages, truth %d", total, len(truth.Messages))
	}
}
