//go:build !windows

package fuse

import (
	"iosbackup/backup"
	"iosbackup/fs/view"
	"iosbackup/manifest"
)

// fromBackup's job is done by the command in the shipped binary (the tree must not
// import package backup); the real-data tests adapt an opened backup the same way.
func fromBackup(b *backup.Backup) view.Source { return testBackup{b} }

type testBackup struct{ b *backup.Backup }

func (s testBackup) Index() *manifest.Index                    { return s.b.Index }
func (s testBackup) FileSize(e *manifest.Entry) (int64, error) { return s.b.FileSize(e) }
func (s testBackup) AppName(bundleID string) string            { return s.b.AppName(bundleID) }
func (s testBackup) Name() string                              { return s.b.Name() }

func (s testBackup) OpenFile(e *manifest.Entry) (view.Reader, error) {
	f, err := s.b.OpenFile(e)
	if err != nil {
		return nil, err
	}
	return f, nil
}
