package export

import (
	"context"
	"io"

	"iosbackup/artifacts/calls"
	"iosbackup/backup"
)

// Calls writes DEST/calls/calls.csv with the calls in range.
func Calls(ctx context.Context, b *backup.Backup, dir string, opt Options) (Stats, error) {
	var st Stats
	res, err := calls.Read(ctx, b)
	if err != nil {
		return st, err
	}
	var kept []calls.Call
	for _, c := range res.Calls {
		if opt.inRange(c.Date) {
			kept = append(kept, c)
		}
	}
	d, err := openDest(dir, &st)
	if err != nil {
		return st, err
	}
	defer d.Close()
	if err := d.mkdir("calls"); err != nil {
		return st, err
	}
	if err := d.write("calls/calls.csv", func(w io.Writer) error { return calls.WriteCSV(w, kept, opt.Names) }); err != nil {
		return st, err
	}
	st.Items, st.Records, st.Skipped = len(kept), len(kept), int64(res.Skipped)
	opt.progress(int64(len(kept)), int64(len(kept)))
	return st, nil
}
