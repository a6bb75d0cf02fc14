package onvif

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// session is what discovery learnt about the camera. The driver forgets it after any error
// but a fault about the arguments, and discovers the camera again on the next call.
type session struct {
	offset time.Duration // the camera's clock minus the agent's
	media  string        // path of the media service
	ptz    string        // path of the PTZ service
	// profile is the media profile token the PTZ requests name.
	profile string
}

// linkError is a failed HTTP exchange: no connection, or the connection failed before the
// whole answer came. retry tells whether the request may be sent again on a new connection.
type linkError struct {
	msg   string
	retry bool
}

func (e *linkError) Error() string { return e.msg + ": " + drivers.ErrUnreachable.Error() }
func (e *linkError) Unwrap() error { return drivers.ErrUnreachable }

// do runs one operation: discovery first when needed, then fn. When an exchange fails on the
// connection (not on a timeout) and the request may be repeated, it discovers the camera again
// on a new connection and runs fn once more. what names the operation in errors.
func (c *Camera) do(ctx context.Context, what string, fn func(context.Context, *session) error) error {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("onvif: %s: %w", what, ctxError("wait for the camera's previous operation", ctx.Err()))
	}
	defer func() { <-c.sem }()
	for attempt := 1; ; attempt++ {
		if c.isClosed() {
			return fmt.Errorf("onvif: %s: %w", what, errClosed)
		}
		s, err := c.session(ctx)
		if err == nil {
			err = fn(ctx, s)
		}
		if err == nil {
			return nil
		}
		if !keepsSession(err) && c.sess != nil {
			c.log.Debug("onvif: camera will be discovered again", "error", err)
			c.sess = nil
		}
		var le *linkError
		if errors.As(err, &le) {
			if c.own != nil {
				c.own.CloseIdleConnections()
			}
			if le.retry && attempt == 1 && ctx.Err() == nil && !c.isClosed() {
				c.log.Debug("onvif: connection failed, trying again", "error", err)
				continue
			}
		}
		return fmt.Errorf("onvif: %s: %w", what, err)
	}
}

// keepsSession reports whether what discovery found still holds after err: after a fault
// about the arguments (not a missing profile, nor refused credentials), and after a preset
// number the camera does not have.
func keepsSession(err error) bool {
	var f *Fault
	if errors.As(err, &f) {
		return !f.stale()
	}
	return errors.Is(err, errNoPreset)
}

// session returns the current session, discovering the camera when there is none.
func (c *Camera) session(ctx context.Context) (*session, error) {
	if c.sess != nil {
		return c.sess, nil
	}
	s, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	c.sess = s
	return s, nil
}

// discover learns the camera's clock (GetSystemDateAndTime), the addresses of its media and
// PTZ services (GetCapabilities, or GetServices where that fails) and the profile to drive
// (Options.Profile, or GetProfiles).
func (c *Camera) discover(ctx context.Context) (*session, error) {
	s := &session{}
	t0 := c.now()
	status, body, err := c.call(ctx, s, opSystemDateAndTime, reqSystemDateAndTime())
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	t1 := c.now()
	if cam, ok, err := parseDateTime(status, body); err != nil || !ok {
		// Without the camera's time, tokens carry the agent's: fine when both keep good time.
		c.log.Debug("onvif: camera gives no UTC time; tokens use the agent's clock", "error", err)
	} else {
		s.offset = cam.Sub(t0.Add(t1.Sub(t0) / 2))
		if s.offset > 5*time.Second || s.offset < -5*time.Second {
			c.log.Debug("onvif: camera clock differs from the agent's; tokens follow the camera's", "offset", s.offset.Round(time.Second))
		}
	}

	eps, err := c.endpoints(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	s.media, s.ptz = eps.media, eps.ptz

	if c.opts.Profile != "" {
		s.profile = c.opts.Profile
		return s, nil
	}
	status, body, err = c.call(ctx, s, opProfiles, reqProfiles())
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	profiles, err := parseProfiles(status, body)
	if err != nil {
		return nil, fmt.Errorf("discover: profiles: %w", err)
	}
	var names []string
	for _, p := range profiles {
		if p.PTZ {
			s.profile = p.Token
			c.log.Debug("onvif: camera discovered", "profile", p.Token, "ptz", s.ptz, "offset", s.offset.Round(time.Second))
			return s, nil
		}
		names = append(names, p.Token)
	}
	return nil, fmt.Errorf("discover: no media profile has a PTZ configuration (profiles: %s): %w",
		strings.Join(names, ", "), drivers.ErrUnsupported)
}

// endpoints asks GetCapabilities for the service addresses, and GetServices when
// GetCapabilities names no PTZ service or fails with a fault other than refused credentials.
func (c *Camera) endpoints(ctx context.Context, s *session) (endpoints, error) {
	status, body, err := c.call(ctx, s, opCapabilities, reqCapabilities())
	if err != nil {
		return endpoints{}, err
	}
	eps, capErr := parseCapabilities(status, body)
	if capErr == nil && eps.ptz != "" {
		return eps, nil
	}
	if capErr != nil && !isPlainFault(capErr) {
		return endpoints{}, fmt.Errorf("capabilities: %w", capErr)
	}
	status, body, err = c.call(ctx, s, opServices, reqServices())
	if err != nil {
		return endpoints{}, err
	}
	eps, err = parseServices(status, body)
	switch {
	case err == nil && eps.ptz != "":
		return eps, nil
	case err != nil && !isPlainFault(err):
		return endpoints{}, fmt.Errorf("services: %w", err)
	case capErr != nil:
		return endpoints{}, fmt.Errorf("capabilities: %w", capErr) // both refused: the first fault says more
	}
	return endpoints{}, fmt.Errorf("the camera has no PTZ service: %w", drivers.ErrUnsupported)
}

// isPlainFault reports whether err is a fault other than refused credentials.
func isPlainFault(err error) bool {
	var f *Fault
	return errors.As(err, &f) && !errors.Is(err, ErrAuth)
}

// url returns the address of a service.
func (c *Camera) url(s *session, svc service) string {
	switch {
	case svc == mediaService && s.media != "":
		return c.base + s.media
	case svc == ptzService && s.ptz != "":
		return c.base + s.ptz
	}
	return c.base + DevicePath
}

// soapAction is the action parameter of the request's media type (SOAP 1.2 HTTP binding).
func soapAction(o op) string {
	ns := nsDevice
	switch o.service {
	case mediaService:
		ns = nsMedia
	case ptzService:
		ns = nsPTZ
	}
	return ns + "/" + o.name
}

// call makes one HTTP exchange: the request body element wrapped in an envelope, with a
// UsernameToken stamped with the camera's time when o needs one. It returns the HTTP status
// and the answer's body; the caller decodes them.
func (c *Camera) call(ctx context.Context, s *session, o op, body []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, ctxError(o.name, err)
	}
	var tok *token
	if o.auth && c.opts.Username != "" {
		nonce := make([]byte, 16)
		c.nonce(nonce)
		t := newToken(c.opts.Username, c.opts.Password, nonce, c.now().Add(s.offset))
		tok = &t
	}
	msg := envelope(body, tok)

	deadline, fromCtx := c.deadline(ctx)
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	stop := context.AfterFunc(c.life, cancel) // Close ends the exchange
	defer stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.url(s, o.service), bytes.NewReader(msg))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: bad service address: %v: %w", o.name, err, drivers.ErrDevice)
	}
	req.Header.Set("Content-Type", contentType+`; action="`+soapAction(o)+`"`)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, c.linkError(ctx, o, "send "+o.name, err, fromCtx)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return 0, nil, c.linkError(ctx, o, "read the answer to "+o.name, err, fromCtx)
	}
	if len(reply) > maxReply {
		return 0, nil, fmt.Errorf("%s: %w", o.name, garbled("answer longer than %d bytes", maxReply))
	}
	return resp.StatusCode, reply, nil
}

// deadline returns the deadline of one exchange: the context's, or Options.Timeout from now
// when that comes sooner; fromCtx tells which.
func (c *Camera) deadline(ctx context.Context) (time.Time, bool) {
	own := time.Now().Add(c.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && !d.After(own) {
		return d, true
	}
	return own, false
}

// linkError wraps a failed exchange. A deadline is a timeout (context.DeadlineExceeded and
// drivers.ErrUnreachable); anything else is a *linkError (drivers.ErrUnreachable).
func (c *Camera) linkError(ctx context.Context, o op, stage string, err error, fromCtx bool) error {
	switch {
	case ctx.Err() != nil:
		return ctxError(stage, ctx.Err())
	case c.isClosed():
		return errClosed
	case errors.Is(err, context.DeadlineExceeded):
		if fromCtx {
			return ctxError(stage, context.DeadlineExceeded)
		}
		return fmt.Errorf("%s: no answer within %v: %w: %w", stage, c.opts.Timeout, context.DeadlineExceeded, drivers.ErrUnreachable)
	}
	return &linkError{msg: stage + ": " + unwrapURLError(err), retry: o.idempotent}
}

// unwrapURLError drops the method and URL net/http puts in front of a transport error.
func unwrapURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// ctxError wraps the error of a context that ended.
func ctxError(stage string, err error) error {
	if stage != "" {
		stage += ": "
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%sno answer before the deadline: %w: %w", stage, err, drivers.ErrUnreachable)
	}
	return fmt.Errorf("%s%w", stage, err)
}
