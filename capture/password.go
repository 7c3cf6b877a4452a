package capture

// Backup password changes (encryption on, off, new password): a ChangePassword
// request on the DeviceLink channel, confirmed by the user on the device.

import (
	"context"
	"errors"
	"fmt"
)

// SetEncryption turns backup encryption on (asking for a new password) or off (asking
// for the current one). The device may ask for its passcode to confirm.
func SetEncryption(ctx context.Context, t Target, on bool, password PasswordFunc, progress func(Event)) (err error) {
	defer recoverPanic(&err)
	return changePassword(ctx, t, password, progress, func(enc bool) ([]PasswordKind, error) {
		switch {
		case on && enc:
			return nil, ErrAlreadyEncrypted
		case !on && !enc:
			return nil, ErrNotEncrypted
		case on:
			return []PasswordKind{PasswordNew}, nil
		}
		return []PasswordKind{PasswordCurrent}, nil
	})
}

// ChangePassword changes the backup password (asking for the current and a new one).
func ChangePassword(ctx context.Context, t Target, password PasswordFunc, progress func(Event)) (err error) {
	defer recoverPanic(&err)
	return changePassword(ctx, t, password, progress, func(enc bool) ([]PasswordKind, error) {
		if !enc {
			return nil, ErrNotEncrypted
		}
		return []PasswordKind{PasswordCurrent, PasswordNew}, nil
	})
}

// changePassword sends a ChangePassword request with the passwords plan asks for.
func changePassword(ctx context.Context, t Target, password PasswordFunc, progress func(Event),
	plan func(encrypted bool) ([]PasswordKind, error)) error {
	rep := newReporter(progress)
	l, err := openSession(ctx, t)
	if err != nil {
		return err
	}
	udid := l.dev.udid
	enc, err := l.getValue(ctx, "com.apple.mobile.backup", "WillEncrypt")
	if err != nil {
		l.close()
		return err
	}
	willEncrypt, _ := enc.(bool)
	kinds, err := plan(willEncrypt)
	if err != nil {
		l.close()
		return err
	}
	if password == nil {
		l.close()
		return errors.New("a password is needed but no way to ask for it was given")
	}
	req := map[string]any{"MessageName": "ChangePassword", "TargetIdentifier": udid}
	for _, k := range kinds {
		pw, err := password(k)
		if err != nil {
			l.close()
			return fmt.Errorf("read %s: %w", k, err)
		}
		key := "OldPassword"
		if k == PasswordNew {
			key = "NewPassword"
		}
		req[key] = string(pw)
		clear(pw)
	}
	conn, err := startBackupService(ctx, l)
	if err != nil {
		return err
	}
	s := newSession(conn, nil, rep, udid)
	defer s.close()
	stop := s.watch(ctx)
	defer stop()
	if err := s.handshake(ctx); err != nil {
		return err
	}
	if err := s.send(processMessage(req)...); err != nil {
		return s.ioErr(ctx, err)
	}
	s.quietWait = WaitPasscode
	s.quietMsg = "Confirm on the device: enter its passcode if it asks"
	final, err := s.loop(ctx)
	if err != nil {
		return err
	}
	if err := finalError(final); err != nil {
		return err
	}
	s.goodbye()
	rep.info("Backup password changed on device %s", udid)
	return nil
}
