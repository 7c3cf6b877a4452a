package export

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"iosbackup/artifacts/internal/gentest"
	"iosbackup/internal/testenv"
)

// Headless Chromium renders a conversation's messages.html: the screenshot shows the
// blue bubbles of my messages and the attached photo (many colours), not a blank page.
func TestHTMLRendersInChromium(t *testing.T) {
	chromium := testenv.RequireTool(t, "chromium")
	_, b := gentest.Generate(t, gentest.Named("iOS17"))
	dest := t.TempDir()
	if _, err := Messages(context.Background(), b, dest, Options{Conversation: "+15550100123", Formats: []string{"html"}}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dest, "messages", "+15550100123", "messages.html")
	shot := filepath.Join(t.TempDir(), "shot.png")
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--window-size=800,900", "--screenshot="+shot, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	blue, colours := 0, map[[3]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			c := [3]uint32{cr >> 8, cg >> 8, cb >> 8}
			colours[c] = true
			// The .me bubble: #0b84ff.
			if c[0] < 40 && c[1] > 110 && c[1] < 150 && c[2] > 230 {
				blue++
			}
		}
	}
	if blue < 5000 || len(colours) < 200 {
		t.Errorf("screenshot %v: %d blue pixels, %d colours: blank or unstyled", r, blue, len(colours))
	}
}
