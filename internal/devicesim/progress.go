package devicesim

// The percentages the device reports at index 2 or 3 of its messages, which hosts show
// as their progress bar. A backup's uploads take it to 90 and putting the files into
// place to 100; a restore's downloads run from 0 to 100 by bytes.
const (
	pctUploaded = 90.0
	pctMoved    = 95.0
	pctRemoved  = 97.0
	pctStatus   = 99.0
	pctDone     = 100.0
)

// uploadPercent is a backup's progress after sent of total bytes.
func uploadPercent(sent, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return pctUploaded * float64(min(sent, total)) / float64(total)
}

// downloadPercent is a restore's progress after done of total bytes.
func downloadPercent(done, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return pctDone * float64(min(done, total)) / float64(total)
}
