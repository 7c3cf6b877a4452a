package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// byteProgress is a bar with rate and ETA on a terminal, for work measured in bytes.
// Its methods may be called from several goroutines (the bar locks itself).
type byteProgress struct{ bar *progressbar.ProgressBar }

func newByteProgress(w io.Writer, what string) *byteProgress {
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
	)
	return &byteProgress{bar: bar}
}

func (p *byteProgress) Start(total int64) { p.bar.ChangeMax64(max(total, 1)) }

func (p *byteProgress) Add(n int64) { _ = p.bar.Add64(n) }

// Finish clears the bar, so the report that follows starts on a clean line.
func (p *byteProgress) Finish() { _ = p.bar.Finish() }
