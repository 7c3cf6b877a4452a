package main

import (
	"iosbackup/artifacts/export"
	"iosbackup/backup"
)

// contactNames resolves handles to names from the backup's address book; nil when it
// has none (conversations are then named by handle).
func contactNames(b *backup.Backup) export.Names {
	return nil
}
