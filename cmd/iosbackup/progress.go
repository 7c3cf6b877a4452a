package main

// Drawing capture events: a bar on a terminal (schollz/progressbar), plain lines for
// logs, or JSON lines. All three show the same figures from capture.Event: the
// bytes-based percent, the ETA and the file in flight as DOMAIN/PATH.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rivo/uniseg"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"iosbackup/capture"
)

// plainEvery spaces the lines of --progress plain: enough for a log, not a flood.
const plainEvery = 5 * time.Second

// barWidth is the width of the bar itself; the figures and the file fill the rest.
const barWidth = 20

type renderer struct {
	mode string // bar, plain, none, json
	out  io.Writer
	// sending: the bytes go to the device (restore), so JSON calls them sent_bytes.
	sending  bool
	lastLine time.Time
	bar      *progressbar.ProgressBar
}

func newRenderer(mode string, asJSON bool, stdout io.Writer) (*renderer, error) {
	r := &renderer{mode: mode, out: os.Stderr}
	switch {
	case asJSON:
		r.mode, r.out = "json", stdout
	case mode == "auto":
		r.mode = "plain"
		if term.IsTerminal(int(os.Stderr.Fd())) {
			r.mode = "bar"
		}
	case mode == "bar", mode == "plain", mode == "none":
	default:
		return nil, usageError{fmt.Errorf("--progress %q: want auto, bar, plain or none", mode)}
	}
	return r, nil
}

func (r *renderer) event(e capture.Event) {
	switch r.mode {
	case "none":
		return
	case "json":
		if r.sending {
			_ = json.NewEncoder(r.out).Encode(restoreEventToJSON(e))
			return
		}
		_ = json.NewEncoder(r.out).Encode(eventToJSON(e))
		return
	}
	switch e.Kind {
	case capture.EventInfo, capture.EventWait, capture.EventWarning:
		r.clearBar()
		prefix := ""
		switch e.Kind {
		case capture.EventWait:
			prefix = "waiting: "
		case capture.EventWarning:
			prefix = "warning: "
		}
		fmt.Fprintf(r.out, "%s%s\n", prefix, e.Message)
		return
	}
	if r.mode == "plain" {
		if time.Since(r.lastLine) < plainEvery {
			return
		}
		r.lastLine = time.Now()
		fmt.Fprintln(r.out, progressText(e))
		return
	}
	r.drawBar(e)
}

// drawBar shows e on the bar, whose line never exceeds the terminal's width: the
// text is shortened by display width, whole characters at a time.
func (r *renderer) drawBar(e capture.Event) {
	if r.bar == nil {
		r.bar = progressbar.NewOptions64(1000,
			progressbar.OptionSetWriter(r.out),
			progressbar.OptionSetWidth(barWidth),
			progressbar.OptionUseANSICodes(true),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(false),
		)
	}
	width := 80
	if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 20 {
		width = w
	}
	// The library's part: "100% |<bar>| " and a margin for the cursor.
	room := width - barWidth - 10
	_ = r.bar.Set64(int64(max(e.Percent, 0) * 10))
	r.bar.Describe(barText(e, max(room, 10)))
}

// barText is the text beside the bar, within width columns: the percent is on the
// bar; the file in flight goes first among what is cut, then the rate, then the
// rest, whole characters at a time.
func barText(e capture.Event, width int) string {
	figures := humanBytes(e.Bytes)
	if e.Expected > 0 {
		figures += "/" + humanBytes(e.Expected)
	}
	if e.ETA > 0 {
		figures += " ETA " + e.ETA.Round(time.Second).String()
	}
	rate := " " + humanBytes(int64(e.Rate)) + "/s"
	if e.File == "" {
		return fitLeft(figures+rate, width)
	}
	const minFile = 16
	for _, f := range []string{figures + rate, figures} {
		if left := width - uniseg.StringWidth(f) - 1; left >= minFile {
			return f + " " + fitRight(e.File, left)
		}
	}
	return fitLeft(figures, width)
}

// clearBar removes the bar, so that a message or the shell prompt starts on a clean
// line.
func (r *renderer) clearBar() {
	if r.bar != nil {
		_ = r.bar.Clear()
		r.bar = nil
	}
}

// finish ends the display before the summary or the error is printed.
func (r *renderer) finish() { r.clearBar() }

// progressText is a plain progress line: percent, bytes of the expected total,
// files, rate, ETA and the file in flight, uncut (a log has no width).
func progressText(e capture.Event) string {
	var b strings.Builder
	if e.Percent >= 0 {
		fmt.Fprintf(&b, "%5.1f%% ", e.Percent)
	} else {
		b.WriteString("  ?    ")
	}
	b.WriteString(humanBytes(e.Bytes))
	if e.Expected > 0 {
		b.WriteString(" of " + humanBytes(e.Expected))
	}
	fmt.Fprintf(&b, ", %d files, %s/s", e.Files, humanBytes(int64(e.Rate)))
	if e.ETA > 0 {
		b.WriteString(", ETA " + e.ETA.Round(time.Second).String())
	}
	if e.File != "" {
		b.WriteString(", " + e.File)
	}
	return b.String()
}

// fitLeft keeps the start of s within width columns, marking the cut with "…".
func fitLeft(s string, width int) string {
	if uniseg.StringWidth(s) <= width {
		return s
	}
	var b strings.Builder
	used := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		w := g.Width()
		if used+w > width-1 {
			break
		}
		b.WriteString(g.Str())
		used += w
	}
	return b.String() + "…"
}

// fitRight keeps the end of s within width columns, marking the cut with "…".
func fitRight(s string, width int) string {
	if uniseg.StringWidth(s) <= width {
		return s
	}
	var clusters []string
	var widths []int
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		clusters = append(clusters, g.Str())
		widths = append(widths, g.Width())
	}
	used, i := 1, len(clusters)
	for i > 0 && used+widths[i-1] <= width {
		i--
		used += widths[i]
	}
	return "…" + strings.Join(clusters[i:], "")
}
