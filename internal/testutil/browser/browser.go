// Package browser runs headless Chromium for tests: a real browser with a fake camera and
// microphone (Chromium's --use-fake-device-for-media-stream test pattern and beep) that
// grants media permissions without asking, in a temporary profile, driven over the DevTools
// protocol (chromedp). Every action is bounded by a timeout.
//
// The tests need Debian's chromium (or Chrome) installed; without it they fail with a message
// that says so. BAILIFF_CHROMIUM names another binary.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Binaries tried in order when BAILIFF_CHROMIUM is not set.
var binaries = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a Chromium binary, or an error that says how to get one.
func Find() (string, error) {
	if p := os.Getenv("BAILIFF_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("browser: BAILIFF_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, b := range binaries {
		if p, err := exec.LookPath(b); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("browser: no Chromium found (tried %s): install Debian's chromium (apt-get install chromium) or set BAILIFF_CHROMIUM", strings.Join(binaries, ", "))
}

// Browser is one headless Chromium process.
type Browser struct {
	ctx        context.Context // the browser's first tab
	cancel     context.CancelFunc
	logs       *logBuffer
	exceptions *logBuffer // the uncaught exceptions of this tab
}

// Options tune Start.
type Options struct {
	// Timeout bounds the browser's whole life (default 2 minutes).
	Timeout time.Duration
	// Flags are extra command-line flags (name → value; true for a bare switch).
	Flags map[string]any
}

// Start starts Chromium for the test and stops it when the test ends. A missing binary or a
// browser that does not start fails the test at once with the reason.
func Start(t testing.TB, o Options) *Browser {
	t.Helper()
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.DisableGPU,
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	for k, v := range o.Flags {
		opts = append(opts, chromedp.Flag(k, v))
	}
	logs := &logBuffer{}
	opts = append(opts, chromedp.CombinedOutput(logs))
	base, cancelTimeout := context.WithTimeout(context.Background(), o.Timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &Browser{ctx: ctx, logs: logs, exceptions: &logBuffer{}, cancel: func() { cancelCtx(); cancelAlloc(); cancelTimeout() }}
	// The first action starts the process and its first tab, which live as long as the
	// context of that action: ctx itself (bounded by o.Timeout), not a shorter one.
	if err := chromedp.Do(ctx); err != nil {
		b.cancel()
		t.Fatalf("browser: start %s: %v\n%s", path, err, logs.String())
	}
	err = b.listen()
	if err != nil {
		b.cancel()
		t.Fatalf("browser: listen: %v", err)
	}
	t.Cleanup(func() {
		b.cancel()
		if t.Failed() {
			t.Logf("browser log:\n%s", logs.String())
		}
	})
	return b
}

// Navigate opens url in the browser's tab and waits for its load.
func (b *Browser) Navigate(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browser: open %s: %v\n%s", url, err, b.logs.String())
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise) within timeout,
// and decodes its value into out (nil to drop it).
func (b *Browser) Eval(timeout time.Duration, expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// MustEval is Eval that fails the test on an error.
func (b *Browser) MustEval(t testing.TB, timeout time.Duration, expr string, out any) {
	t.Helper()
	if err := b.Eval(timeout, expr, out); err != nil {
		t.Fatalf("browser: %s: %v\n%s", abbreviate(expr), err, b.logs.String())
	}
}

// Log returns what the browser and its page printed.
func (b *Browser) Log() string { return b.logs.String() }

func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// Context is the context of the browser's first tab, for chromedp actions of a test's own
// (chromedp.NewContext(b.Context()) opens another tab in the same browser).
func (b *Browser) Context() context.Context { return b.ctx }

// listen copies the tab's console and exceptions into the log.
func (b *Browser) listen() error {
	return chromedp.Listen(b.ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			}
			b.logs.add("console." + string(e.Type) + ": " + strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.logs.add("exception: " + msg)
			b.exceptions.add(msg)
		}
	})
}

// FailOnExceptions makes an exception the tab's page throws and does not catch fail t, with
// the exceptions and the browser's log, when t ends.
func (b *Browser) FailOnExceptions(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		if ex := b.exceptions.String(); ex != "" {
			t.Errorf("the page threw:\n%s\nbrowser log:\n%s", ex, b.logs.String())
		}
	})
}
