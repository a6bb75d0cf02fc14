package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/store"
)

// Login limits. After LoginUserFailures failed logins for one user name within LoginLockout,
// that user is locked out until the window is over, whatever the password, from any address
// (a guesser cannot go on from many addresses); after LoginAddrFailures failed logins from
// one client address within LoginAddrWindow, that address is refused until its window is over
// (a guesser cannot try many user names). A successful login clears the user's count.
const (
	LoginUserFailures = 5
	LoginLockout      = 15 * time.Minute
	LoginAddrFailures = 20
	LoginAddrWindow   = 5 * time.Minute
)

// loginLimited answers 429 with Retry-After, audited, when the user or the client address
// is locked out; the password is then not checked at all.
func (s *Server) loginLimited(w http.ResponseWriter, r *http.Request, user string) bool {
	now := time.Now()
	host := clientHost(r)
	why := ""
	wait := s.loginUser.blocked(user, now)
	if wait > 0 {
		why = fmt.Sprintf("user %s is locked out after %d failed logins", user, LoginUserFailures)
	}
	if aw := s.loginAddr.blocked(host, now); aw > 0 && aw > wait {
		wait, why = aw, fmt.Sprintf("too many failed logins from %s", host)
	}
	if wait <= 0 {
		return false
	}
	secs := int(wait.Seconds() + 0.999)
	s.Log.Warn("login refused: rate limited", "user", user, "client", host, "retry_after_s", secs)
	s.Audit.Record(r.Context(), store.AuditEntry{User: user, Action: audit.Login, Target: user, Result: audit.Refused,
		Detail: remoteAddr(r) + " rate limited: " + why})
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("%s: try again in %s", why, (time.Duration(secs)*time.Second).String()))
	return true
}

// loginFailed counts a failed login against the user name and the client address.
func (s *Server) loginFailed(r *http.Request, user string) {
	now := time.Now()
	s.loginUser.fail(user, now)
	s.loginAddr.fail(clientHost(r), now)
}
