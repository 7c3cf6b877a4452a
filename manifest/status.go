package manifest

// SnapshotFinished is the SnapshotState a backup host writes into Status.plist once
// the device reported the backup complete.
const SnapshotFinished = "finished"

// Complete reports whether the Status.plist says the last backup run finished. This is
// the one definition of a complete backup in the project: capture (may an incremental
// backup build on it?), list and info (is it whole?) and verify all ask it. A nil
// Status (no Status.plist, or one that does not parse) is not complete.
func (s *Status) Complete() bool { return s != nil && s.SnapshotState == SnapshotFinished }

// StatusComplete parses the bytes of a Status.plist with the guarded parser and tells
// whether it says complete; a damaged plist is not complete.
func StatusComplete(data []byte) bool {
	st, err := ParseStatus(data)
	return err == nil && st.Complete()
}

// StatusState is the SnapshotState of a Status.plist, "" when it does not parse: what
// an error message about an incomplete backup quotes.
func StatusState(data []byte) string {
	st, err := ParseStatus(data)
	if err != nil {
		return ""
	}
	return st.SnapshotState
}
