package api

import (
	"context"
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

// LoginCounter keeps failed logins in a store every hub of a share group reads
// (*store.Store), by subject: "user:{name}" and "addr:{host}".
type LoginCounter interface {
	LoginFailed(ctx context.Context, subject string, at time.Time) error
	LoginFailures(ctx context.Context, subject string, since time.Time) (int, time.Time, error)
	LoginReset(ctx context.Context, subject string) error
}

// waitFor is how long subject must wait: by the group's counts when there are some
// (LoginCounts: max failures within window lock it until the earliest of them is window old),
// else, or when they cannot be read, by this process's own (local).
func (s *Server) waitFor(ctx context.Context, subject string, local *failLimiter, key string, now time.Time) time.Duration {
	max, window := local.limits()
	if s.LoginCounts != nil {
		n, first, err := s.LoginCounts.LoginFailures(ctx, subject, now.Add(-window))
		if err == nil {
			if n < max {
				return 0
			}
			return first.Add(window).Sub(now)
		}
		s.Log.Error("login limits: the group's counts; this hub's own hold", "error", err)
	}
	return local.blocked(key, now)
}

// loginLimited answers 429 with Retry-After, audited, when the user or the client address
// is locked out; the password is then not checked at all.
func (s *Server) loginLimited(w http.ResponseWriter, r *http.Request, user string) bool {
	now := time.Now()
	host := clientHost(r)
	why := ""
	wait := s.waitFor(r.Context(), "user:"+user, &s.loginUser, user, now)
	if wait > 0 {
		why = fmt.Sprintf("user %s is locked out after %d failed logins", user, LoginUserFailures)
	}
	if aw := s.waitFor(r.Context(), "addr:"+host, &s.loginAddr, host, now); aw > 0 && aw > wait {
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
	host := clientHost(r)
	s.loginUser.fail(user, now)
	s.loginAddr.fail(host, now)
	if s.LoginCounts != nil {
		for _, subject := range []string{"user:" + user, "addr:" + host} {
			if err := s.LoginCounts.LoginFailed(r.Context(), subject, now); err != nil {
				s.Log.Error("login limits: count a failure for the group", "error", err)
			}
		}
	}
}

// loginReset forgets the user's failed logins: it logged in.
func (s *Server) loginReset(r *http.Request, user string) {
	s.loginUser.reset(user)
	if s.LoginCounts != nil {
		if err := s.LoginCounts.LoginReset(r.Context(), "user:"+user); err != nil {
			s.Log.Error("login limits: reset the group's count", "error", err)
		}
	}
}
