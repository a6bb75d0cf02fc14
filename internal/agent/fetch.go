package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// fetch gets a resource of the hub (a firmware image) with the agent's own credentials, as
// "Authorization: Bearer agent.{site}.{room}.{password}". The credentials only go to the host
// the agent's broker is on: a command naming another host is refused (an unspecified host,
// 0.0.0.0 or ::, a hub listening on every address, is taken as the broker's).
func (a *Agent) fetch(ctx context.Context, rawURL string, max int64) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("agent: fetch %q: not an http(s) URL", rawURL)
	}
	b, err := url.Parse(a.brokerLG)
	if err == nil && b.Hostname() != "" {
		// A hub listening on every address names itself 0.0.0.0 or ::; it is where the broker is.
		if h := u.Hostname(); h == "" || net.ParseIP(h) != nil && net.ParseIP(h).IsUnspecified() {
			u.Host = net.JoinHostPort(b.Hostname(), u.Port())
		}
	}
	if err != nil || !strings.EqualFold(b.Hostname(), u.Hostname()) {
		return nil, fmt.Errorf("agent: fetch %s: the hub's files must come from the broker's host %q", u.Redacted(), hostOf(b))
	}
	// The hub may be away for a moment (a restart): what fails on the way is tried again,
	// with a growing pause, for FetchRetryFor; what the hub refuses is not.
	deadline := time.Now().Add(FetchRetryFor)
	pause := 500 * time.Millisecond
	for {
		body, transient, err := a.fetchOnce(ctx, u, max)
		if err == nil || !transient || time.Now().Add(pause).After(deadline) {
			return body, err
		}
		a.log.Warn("fetch from the hub failed; trying again", "url", u.Redacted(), "in", pause, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (then: %w)", err, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 8*time.Second)
	}
}

// FetchRetryFor is how long fetch keeps trying a hub that does not answer.
var FetchRetryFor = 2 * time.Minute

// fetchOnce fetches u once; transient says whether trying again may help (the hub did not
// answer, the answer broke off, or the hub said it could not serve now).
func (a *Agent) fetchOnce(ctx context.Context, u *url.URL, max int64) (body []byte, transient bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, false, fmt.Errorf("agent: fetch %s: %w", u.Redacted(), err)
	}
	req.Header.Set("Authorization", "Bearer agent."+a.site+"."+a.room+"."+a.o.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("agent: fetch %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, resp.StatusCode >= 500, fmt.Errorf("agent: fetch %s: %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("agent: fetch %s: %w", u.Redacted(), err)
	}
	if int64(len(body)) > max {
		return nil, false, fmt.Errorf("agent: fetch %s: more than %d bytes", u.Redacted(), max)
	}
	return body, false, nil
}

func hostOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Hostname()
}
