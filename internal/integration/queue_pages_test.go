package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil/browser"
	"github.com/chromedp/chromedp"
)

// tab opens a new tab of b on url and logs in there as user. An exception the page throws
// fails the test.
func (e *hallEnv) tab(t *testing.T, b *browser.Browser, url, user string) context.Context {
	t.Helper()
	tab := b.Tab(t)
	tab.FailOnExceptions(t)
	if err := chromedp.Do(tab.Context(),
		chromedp.Navigate(e.url(url)),
		chromedp.WaitVisible(css(`#login input[name=user]`)),
		chromedp.SendKeys(css(`#login input[name=user]`), user),
		chromedp.SendKeys(css(`#login input[name=password]`), "pw-"+user),
		chromedp.Click(css(`#login button[type=submit]`)),
	); err != nil {
		t.Fatalf("%s as %s: %v\n%s", url, user, err, tab.Log())
	}
	return tab.Context()
}

type css = chromedp.CSS

// do runs steps in a tab within 10 s; on failure it logs the page as it stands.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		hctx, hcancel := context.WithTimeout(ctx, 2*time.Second)
		defer hcancel()
		html, _ := chromedp.Run(hctx, chromedp.OuterHTML(css("body")))
		t.Fatalf("%v; the page: %s", err, html)
	}
}

func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	got := ""
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if got, err = chromedp.Run(ctx, chromedp.TextContent(css(sel))); err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s shows %q, want %q", sel, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQueuePages drives the four queue pages in headless Chromium against a running hub: a
// ticket taken at the kiosk page is printed, the window page calls it, the Chinese calling
// display shows and announces it, and the statistics page charts it.
func TestQueuePages(t *testing.T) {
	e := newHall(t)
	br := browser.Start(t, browser.Options{Timeout: time.Minute})

	display := e.tab(t, br, "/queue/display.html?lang=zh", "monitor")
	do(t, display, chromedp.Click(css(`#start-sound`)))

	kiosk := e.tab(t, br, "/queue/kiosk.html?printer=printer", "kiosk")
	do(t, kiosk, chromedp.WaitVisible(css(`button[data-service="A"]`)), chromedp.Click(css(`button[data-service="A"]`)))
	waitText(t, kiosk, `#ticket-number`, "A001")
	waitText(t, kiosk, `#ahead`, "0 waiting before you")
	checkPrinted(t, e.waitTickets(1)[0], "A001", "Filing", 0)

	win := e.tab(t, br, "/queue/window.html?window=w1", "clerk")
	do(t, win, chromedp.WaitVisible(css(`#call-next`)), chromedp.Click(css(`#call-next`)))
	waitText(t, win, `#current`, "A001")

	waitText(t, display, `#now-number`, "A001")
	waitText(t, display, `#now-window`, "1号窗口")
	waitText(t, display, `#announcement`, "请 A 0 0 1 号到 1号窗口 办理")
	waitText(t, display, `#recent li[data-number="A001"]`, "A001")

	// No-show, then recall it from the window page's list.
	do(t, win, chromedp.Click(css(`#no-show`)), chromedp.WaitVisible(css(`#noshows button[data-number="A001"]`)),
		chromedp.Click(css(`#noshows button[data-number="A001"]`)))
	waitText(t, win, `#current`, "A001")
	do(t, win, chromedp.Click(css(`#complete`)))
	waitText(t, win, `#current`, "—")

	stats := e.tab(t, br, "/queue/stats.html", "monitor")
	do(t, stats, chromedp.WaitVisible(css(`#by-service svg rect`)))
	tickets, err := chromedp.Run(stats, chromedp.AttributeValue(css(`#by-service svg rect[data-value]`), "data-value"))
	if err != nil {
		t.Fatal(err)
	}
	if tickets.Value != "1" {
		t.Errorf("the chart shows %s tickets for service A, want 1", tickets.Value)
	}
	waitText(t, stats, `#by-window`, "Window 1")

	// The status page shares the pages' script library (lib/api.js): it still logs in and lists
	// the hall.
	status := e.tab(t, br, "/", "monitor")
	do(t, status, chromedp.WaitVisible(css(`article.room[data-room="court/hall"]`)))
}
