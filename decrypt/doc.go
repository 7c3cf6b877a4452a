// Package decrypt holds the cryptography of encrypted iOS backups: the keybag
// (BackupKeyBag) parser, the password-to-key derivation, RFC 3394 AES key
// unwrapping of class and file keys, and random-access AES-256-CBC readers
// for file contents.
//
// It is pure crypto: it knows nothing of manifests, FUSE or SQLite, and never
// writes plaintext anywhere but into the caller's buffers. Everything it
// parses is treated as hostile: lengths and counts are bounded, and bad input
// gives an error, never a panic.
//
// The flow for an encrypted backup:
//
//	kb, err := decrypt.ParseKeybag(manifestPlist.BackupKeyBag)
//	kek, err := kb.DeriveKEK(password) // seconds of CPU on iOS 10.2+
//	keys, err := kb.Unlock(kek)        // errors.Is(err, decrypt.ErrWrongPassword)
//	fileKey, err := keys.UnwrapFileKey(class, wrapped40)
//	r, err := decrypt.NewReader(blobFile, blobSize, fileKey)
//	r.ReadAt(p, off) // decrypts only the blocks it needs
package decrypt
