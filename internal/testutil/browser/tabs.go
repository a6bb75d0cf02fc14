package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Tab opens another tab of the same browser (its own page, the same profile); it closes
// with the browser.
func (b *Browser) Tab(t testing.TB) *Browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("browser: new tab: %v", err)
	}
	t.Cleanup(cancel)
	tab := &Browser{ctx: ctx, cancel: cancel, logs: b.logs, exceptions: &logBuffer{}}
	if err := tab.listen(); err != nil {
		t.Fatalf("browser: listen: %v", err)
	}
	return tab
}

// Viewport sets the tab's size in CSS pixels (a 10-inch panel is 1280x800).
func (b *Browser) Viewport(t testing.TB, w, h int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatalf("browser: viewport: %v", err)
	}
}

// SavePNG writes the tab's visible w×h pixels as a PNG to path, scaled by scale
// (0 < scale ≤ 1, to keep the file small).
func (b *Browser) SavePNG(path string, w, h, scale float64) error {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	shot := func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format: page.CaptureScreenshotFormatPng, Clip: &page.Viewport{Width: w, Height: h, Scale: scale}})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}
