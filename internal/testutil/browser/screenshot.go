package browser

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Screenshot writes the tab's viewport, width×height CSS pixels, as a PNG to path, when the
// environment sets BAILIFF_SCREENSHOTS=1 (the pictures in docs/screenshots); otherwise it does
// nothing.
func (b *Browser) Screenshot(t testing.TB, path string, width, height int64) {
	t.Helper()
	if os.Getenv("BAILIFF_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height),
		chromedp.Sleep(300*time.Millisecond)) // let the page lay itself out again
	if err == nil {
		err = b.SavePNG(path, float64(width), float64(height), 1)
	}
	if rerr := chromedp.Do(ctx, chromedp.EmulateReset()); err == nil {
		err = rerr
	}
	if err != nil {
		t.Fatalf("browser: screenshot %s: %v", path, err)
	}
}
