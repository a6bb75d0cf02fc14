package api

import (
	"context"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/store"
)

// sessionTTL is how long a looked-up session is trusted before the store is asked again.
// Logout on this hub drops it at once.
const sessionTTL = 10 * time.Second

type cachedSession struct {
	s       store.Session
	checked time.Time
}

// sessionCache spares the store a read on every request of a busy client.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

func (c *sessionCache) get(th string, now time.Time) (store.Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[th]
	if !ok || now.Sub(e.checked) > sessionTTL || !now.Before(e.s.Expires) {
		return store.Session{}, false
	}
	return e.s, true
}

func (c *sessionCache) put(th string, s store.Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedSession{} // bounded: start over rather than grow
	}
	c.m[th] = cachedSession{s: s, checked: now}
}

func (c *sessionCache) drop(th string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, th)
}

// session returns the unexpired session of a token hash.
func (s *Server) session(ctx context.Context, th string) (store.Session, error) {
	now := time.Now()
	if se, ok := s.sessions.get(th, now); ok {
		return se, nil
	}
	se, err := s.Store.Session(ctx, th, now)
	if err != nil {
		return se, err
	}
	s.sessions.put(th, se, now)
	return se, nil
}
