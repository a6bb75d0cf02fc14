package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/hub/api"
)

// TestLoginLimits: failed logins lock a user out (even with the right password afterwards)
// and then the client address, each with 429 and Retry-After, each audited; logout ends the
// session at once. The API carries its session in a bearer header, never a cookie, so a
// cross-site request cannot ride on it (no CSRF): the login answer sets no cookie.
func TestLoginLimits(t *testing.T) {
	e := newEnv(t, 0, false)
	tech := e.login("tech")

	login := func(user, pw string) (int, string, map[string]any) {
		b, _ := json.Marshal(map[string]string{"user": user, "password": pw})
		resp, err := http.Post(e.url("/api/v1/login"), "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Fatalf("the login answer sets a cookie: %v", c)
		}
		out := map[string]any{}
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, resp.Header.Get("Retry-After"), out
	}

	for i := 0; i < api.LoginUserFailures; i++ {
		if st, _, _ := login("judge", "wrong"); st != 401 {
			t.Fatalf("wrong password %d: %d", i, st)
		}
	}
	st, retry, body := login("judge", "pw-judge")
	if st != 429 || errCode(body) != "rate_limited" {
		t.Fatalf("after %d failures, the right password: %d %v", api.LoginUserFailures, st, body)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > int(api.LoginLockout.Seconds()) {
		t.Fatalf("Retry-After %q", retry)
	}
	// Another user from the same address is not locked by judge's failures (yet).
	if st, _, _ := login("monitor", "pw-monitor"); st != 200 {
		t.Fatalf("monitor: %d", st)
	}
	// Per address: failures with other names lock the address out for every user.
	for i := 0; ; i++ {
		st, _, _ := login(fmt.Sprintf("nobody%d", i), "x")
		if st == 429 {
			if i+api.LoginUserFailures+1 < api.LoginAddrFailures { // judge's 5 count and the locked attempt does not
				t.Fatalf("address locked after %d failures", i+api.LoginUserFailures)
			}
			break
		}
		if i > api.LoginAddrFailures {
			t.Fatal("the address was never locked out")
		}
	}
	if st, retry, _ := login("monitor", "pw-monitor"); st != 429 || retry == "" {
		t.Fatalf("a locked address logged in: %d %q", st, retry)
	}

	// Audited.
	st, page := e.call("GET", "/api/v1/audit?limit=1000", tech, nil)
	if st != 200 {
		t.Fatalf("audit: %d %v", st, page)
	}
	limited := 0
	for _, en := range page["entries"].([]any) {
		m := en.(map[string]any)
		if m["action"] == "login" && m["result"] == "refused" && strings.Contains(fmt.Sprint(m["detail"]), "rate limited") {
			limited++
		}
	}
	if limited < 2 {
		t.Fatalf("%d rate-limited logins in the audit log, want ≥ 2", limited)
	}

	// Logout ends the session at once.
	if st, _ := e.call("POST", "/api/v1/logout", tech, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := e.call("GET", "/api/v1/rooms", tech, nil); st != 401 {
		t.Fatalf("a logged-out token: %d", st)
	}
}
