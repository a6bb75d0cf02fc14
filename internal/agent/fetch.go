package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("agent: fetch %s: %w", u.Redacted(), err)
	}
	req.Header.Set("Authorization", "Bearer agent."+a.site+"."+a.room+"."+a.o.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agent: fetch %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("agent: fetch %s: %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("agent: fetch %s: %w", u.Redacted(), err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("agent: fetch %s: more than %d bytes", u.Redacted(), max)
	}
	return body, nil
}

func hostOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Hostname()
}
