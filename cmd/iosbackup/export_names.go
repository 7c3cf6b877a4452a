package main

import (
	"context"

	"iosbackup/artifacts/contacts"
	"iosbackup/artifacts/export"
	"iosbackup/backup"
)

// contactNames resolves handles to names from the backup's address book; nil when it
// has none or it cannot be read (conversations and calls are then named by handle).
func contactNames(b *backup.Backup) export.Names {
	res, err := contacts.Read(context.Background(), b)
	if err != nil {
		warnf("%v: conversations are named by phone number or email", err)
		return nil
	}
	return res.Names()
}
