package rtsp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 10 * time.Second

// Transports a client can ask for.
const (
	TCP = "tcp" // RTP/AVP/TCP interleaved on the RTSP connection (the default)
	UDP = "udp" // RTP/AVP over UDP, a port pair per media
)

// Options configure a Client.
type Options struct {
	Transport string        // TCP (default) or UDP
	Timeout   time.Duration // for each answer, and the longest silence in a stream; default 10s
	UserAgent string        // default "bailiff"
	Logger    *slog.Logger
}

// Track is a media the client has set up.
type Track struct {
	Media   Media
	URL     string // the control URL SETUP went to
	Channel uint8  // interleaved RTP channel (RTCP is Channel+1)

	rtpConn, rtcpConn *net.UDPConn
	serverIP          net.IP
}

// Client is one RTSP session with a server.
type Client struct {
	o    Options
	conn net.Conn
	rd   *Reader
	wmu  sync.Mutex
	base *url.URL // the URL without user info
	auth authorizer

	cseq        atomic.Int64
	session     string
	timeout     time.Duration // the session's timeout (Session header)
	getParam    bool          // the server offers GET_PARAMETER
	tracks      []*Track
	contentBase *url.URL
	log         *slog.Logger

	// Dropped counts RTP packets that did not parse.
	Dropped atomic.Int64
}

// Dial connects to the server of rawURL (rtsp://[user:pass@]host[:554]/path).
func Dial(ctx context.Context, rawURL string, o Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "rtsp" || u.Host == "" {
		return nil, fmt.Errorf("rtsp: %q: want rtsp://host[:port]/path", Redact(rawURL))
	}
	if o.Transport == "" {
		o.Transport = TCP
	}
	if o.Transport != TCP && o.Transport != UDP {
		return nil, fmt.Errorf("rtsp: transport %q: want tcp or udp", o.Transport)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "bailiff"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c := &Client{o: o, log: o.Logger, timeout: 60 * time.Second}
	if u.User != nil {
		c.auth.user = u.User.Username()
		c.auth.pass, _ = u.User.Password()
	}
	b := *u
	b.User = nil
	c.base = &b
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "554")
	}
	d := net.Dialer{Timeout: o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("rtsp: connect %s: %w", c.base, err)
	}
	c.conn = conn
	c.rd = NewReader(conn)
	return c, nil
}

// URL is the URL the client was given, without its credentials.
func (c *Client) URL() string { return c.base.String() }

// Tracks returns the tracks set up so far.
func (c *Client) Tracks() []*Track { return c.tracks }

func (c *Client) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.o.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	return d
}

func (c *Client) newRequest(method, u string) *Request {
	r := &Request{Method: method, URL: u, Header: Header{}}
	r.Header.Set("CSeq", strconv.FormatInt(c.cseq.Add(1), 10))
	r.Header.Set("User-Agent", c.o.UserAgent)
	if c.session != "" {
		r.Header.Set("Session", c.session)
	}
	if a := c.auth.header(method, u); a != "" {
		r.Header.Set("Authorization", a)
	}
	return r
}

func (c *Client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.o.Timeout))
	_, err := c.conn.Write(b)
	return err
}

// do sends a request and reads its response, answering one 401 with credentials.
func (c *Client) do(ctx context.Context, method, u string, set func(Header)) (*Response, error) {
	for attempt := 0; ; attempt++ {
		req := c.newRequest(method, u)
		if set != nil {
			set(req.Header)
		}
		_ = c.conn.SetDeadline(c.deadline(ctx))
		if err := c.write(req.Bytes()); err != nil {
			return nil, fmt.Errorf("rtsp: %s: %w", method, err)
		}
		resp, err := c.readResponse(req.Header.Get("CSeq"))
		if err != nil {
			return nil, fmt.Errorf("rtsp: %s: %w", method, err)
		}
		if resp.Status == 401 && attempt == 0 && c.auth.user != "" {
			if err := c.auth.pick(resp.Header["www-authenticate"]); err != nil {
				return nil, err
			}
			continue
		}
		if resp.Status != 200 {
			return resp, &StatusError{Method: method, Status: resp.Status, Reason: resp.Reason}
		}
		return resp, nil
	}
}

// readResponse reads until the response with cseq, skipping frames and answering requests.
func (c *Client) readResponse(cseq string) (*Response, error) {
	for range 1000 {
		m, err := c.rd.Next()
		if errors.Is(err, ErrMalformed) {
			continue
		}
		if err != nil {
			return nil, err
		}
		switch {
		case m.Request != nil:
			c.answer(m.Request)
		case m.Response != nil:
			if got := m.Response.Header.Get("CSeq"); got == cseq || got == "" {
				return m.Response, nil
			}
		}
	}
	return nil, errors.New("rtsp: no answer among 1000 messages")
}

// answer replies to a request the server sent (some cameras ping their clients).
func (c *Client) answer(r *Request) {
	resp := &Response{Status: 200, Reason: "OK", Header: Header{}}
	switch r.Method {
	case "OPTIONS", "GET_PARAMETER", "SET_PARAMETER":
	default:
		resp.Status, resp.Reason = 501, "Not Implemented"
	}
	resp.Header.Set("CSeq", r.Header.Get("CSeq"))
	_ = c.write(resp.Bytes())
}

// Describe sends OPTIONS and DESCRIBE and returns the parsed session description.
func (c *Client) Describe(ctx context.Context) (*Description, error) {
	resp, err := c.do(ctx, "OPTIONS", c.base.String(), nil)
	if err != nil && !errors.Is(err, ErrUnauthorized) {
		// Some cameras refuse OPTIONS; DESCRIBE is what matters.
		c.log.Debug("rtsp OPTIONS failed", "url", c.base.String(), "error", err)
	}
	if resp != nil && resp.Status == 200 {
		c.getParam = strings.Contains(strings.ToUpper(resp.Header.Get("Public")), "GET_PARAMETER")
	}
	resp, err = c.do(ctx, "DESCRIBE", c.base.String(), func(h Header) { h.Set("Accept", "application/sdp") })
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/sdp") {
		return nil, fmt.Errorf("rtsp: DESCRIBE: content type %q, want application/sdp", clip(ct))
	}
	d, err := ParseSDP(resp.Body)
	if err != nil {
		return nil, err
	}
	c.contentBase = c.base
	for _, h := range []string{"Content-Base", "Content-Location"} {
		if v := resp.Header.Get(h); v != "" {
			if u, err := url.Parse(v); err == nil && u.Scheme == "rtsp" {
				u.User = nil
				c.contentBase = u
				break
			}
		}
	}
	if d.Control != "" && d.Control != "*" {
		if s, err := resolveControl(c.contentBase, d.Control); err == nil {
			if u, err := url.Parse(s); err == nil {
				c.contentBase = u
			}
		}
	}
	return d, nil
}

// Setup sets up one media of the description for the client's transport.
func (c *Client) Setup(ctx context.Context, m *Media) (*Track, error) {
	if c.contentBase == nil {
		return nil, errors.New("rtsp: SETUP before DESCRIBE")
	}
	u, err := resolveControl(c.contentBase, m.Control)
	if err != nil {
		return nil, err
	}
	t := &Track{Media: *m, URL: u, Channel: uint8(2 * len(c.tracks))}
	var transport string
	if c.o.Transport == UDP {
		if err := t.listenUDP(c.conn.LocalAddr()); err != nil {
			return nil, err
		}
		p := t.rtpConn.LocalAddr().(*net.UDPAddr).Port
		transport = fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d", p, p+1)
	} else {
		transport = fmt.Sprintf("RTP/AVP/TCP;unicast;interleaved=%d-%d", t.Channel, t.Channel+1)
	}
	resp, err := c.do(ctx, "SETUP", u, func(h Header) { h.Set("Transport", transport) })
	if err != nil {
		t.close()
		return nil, err
	}
	if s := resp.Header.Get("Session"); s != "" {
		id, to := parseSession(s)
		if id == "" {
			t.close()
			return nil, fmt.Errorf("%w: SETUP: empty Session header", ErrMalformed)
		}
		c.session, c.timeout = id, time.Duration(to)*time.Second
	} else if c.session == "" {
		t.close()
		return nil, fmt.Errorf("%w: SETUP: no Session header", ErrMalformed)
	}
	tp := resp.Header.Get("Transport")
	if c.o.Transport == TCP {
		if ch, ok := transportParam(tp, "interleaved"); ok {
			a, _, _ := strings.Cut(ch, "-")
			n, err := strconv.Atoi(a)
			if err != nil || n < 0 || n > 254 {
				return nil, fmt.Errorf("%w: SETUP: Transport %q", ErrMalformed, clip(tp))
			}
			t.Channel = uint8(n)
		}
	} else {
		if !strings.Contains(strings.ToUpper(tp), "RTP/AVP") || strings.Contains(strings.ToUpper(tp), "/TCP") {
			t.close()
			return nil, fmt.Errorf("rtsp: SETUP: the server did not accept UDP (Transport %q)", clip(tp))
		}
		t.serverIP = c.conn.RemoteAddr().(*net.TCPAddr).IP
		if src, ok := transportParam(tp, "source"); ok {
			if ip := net.ParseIP(src); ip != nil {
				t.serverIP = ip
			}
		}
	}
	c.tracks = append(c.tracks, t)
	return t, nil
}

func transportParam(tp, name string) (string, bool) {
	for _, p := range strings.Split(tp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// listenUDP opens an even/odd port pair on the address the RTSP connection uses.
func (t *Track) listenUDP(local net.Addr) error {
	ip := local.(*net.TCPAddr).IP
	for range 50 {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			return fmt.Errorf("rtsp: UDP port: %w", err)
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p%2 == 0 {
			if b, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: p + 1}); err == nil {
				t.rtpConn, t.rtcpConn = a, b
				return nil
			}
		}
		a.Close()
	}
	return errors.New("rtsp: no free even/odd UDP port pair")
}

func (t *Track) close() {
	if t.rtpConn != nil {
		t.rtpConn.Close()
		t.rtcpConn.Close()
	}
}

// Play starts the stream of every track set up.
func (c *Client) Play(ctx context.Context) error {
	if len(c.tracks) == 0 {
		return errors.New("rtsp: PLAY with no track set up")
	}
	_, err := c.do(ctx, "PLAY", c.contentBase.String(), func(h Header) { h.Set("Range", "npt=0.000-") })
	return err
}

// Run reads the stream until ctx ends or the stream fails, calling on for each RTP packet
// (from one goroutine at a time). It keeps the session alive. A stream silent for the
// Timeout ends Run with an error.
func (c *Client) Run(parent context.Context, on func(t *Track, p *rtp.Packet)) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	errc := make(chan error, 2+len(c.tracks))
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetReadDeadline(time.Now()) })
	defer stop()

	wg.Add(1)
	go func() { defer wg.Done(); errc <- c.keepAlive(ctx) }()
	if c.o.Transport == TCP {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- c.readTCP(ctx, on) }()
	} else {
		var mu sync.Mutex
		for _, t := range c.tracks {
			wg.Add(1)
			go func() { defer wg.Done(); errc <- c.readUDP(ctx, t, &mu, on) }()
		}
	}
	select {
	case err := <-errc:
		cancel()
		if parent.Err() != nil {
			return nil
		}
		if err == nil {
			err = ErrClosed
		}
		return err
	case <-ctx.Done():
		return nil
	}
}

func (c *Client) keepAlive(ctx context.Context) error {
	every := c.timeout / 2
	every = max(every, time.Second)
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tk.C:
		}
		method := "OPTIONS"
		if c.getParam {
			method = "GET_PARAMETER"
		}
		if c.o.Transport == TCP {
			// The reader of the stream consumes the answer.
			if err := c.write(c.newRequest(method, c.contentBase.String()).Bytes()); err != nil {
				return fmt.Errorf("rtsp: keep-alive: %w", err)
			}
			continue
		}
		if _, err := c.do(ctx, method, c.contentBase.String(), nil); err != nil {
			var se *StatusError
			if errors.As(err, &se) && se.Status != 454 {
				continue // an unusual answer is still an answer: the session lives
			}
			return fmt.Errorf("rtsp: keep-alive: %w", err)
		}
	}
}

func (c *Client) readTCP(ctx context.Context, on func(*Track, *rtp.Packet)) error {
	byChannel := map[uint8]*Track{}
	for _, t := range c.tracks {
		byChannel[t.Channel] = t
	}
	c.rd.Channel = func(ch uint8) bool { _, ok := byChannel[ch&^1]; return ok }
	var set time.Time
	for {
		if now := time.Now(); now.Sub(set) > c.o.Timeout/4 && ctx.Err() == nil {
			_ = c.conn.SetReadDeadline(now.Add(c.o.Timeout))
			set = now
		}
		m, err := c.rd.Next()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrMalformed) {
			continue
		}
		if err != nil {
			return fmt.Errorf("rtsp: reading the stream of %s: %w", c.base, err)
		}
		switch {
		case m.Frame != nil:
			t := byChannel[m.Frame.Channel]
			if t == nil {
				continue // RTCP
			}
			p := &rtp.Packet{}
			if err := p.Unmarshal(m.Frame.Payload); err != nil {
				c.Dropped.Add(1)
				continue
			}
			on(t, p)
		case m.Request != nil:
			c.answer(m.Request)
		case m.Response != nil:
			if m.Response.Status == 454 {
				return fmt.Errorf("rtsp: keep-alive: %d %s: the session is gone", m.Response.Status, m.Response.Reason)
			}
		}
	}
}

func (c *Client) readUDP(ctx context.Context, t *Track, mu *sync.Mutex, on func(*Track, *rtp.Packet)) error {
	stop := context.AfterFunc(ctx, func() { _ = t.rtpConn.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 65536)
	for {
		_ = t.rtpConn.SetReadDeadline(time.Now().Add(c.o.Timeout))
		n, from, err := t.rtpConn.ReadFromUDP(buf)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("rtsp: reading the stream of %s over UDP: %w", c.base, err)
		}
		if !from.IP.Equal(t.serverIP) {
			continue
		}
		p := &rtp.Packet{}
		if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
			c.Dropped.Add(1)
			continue
		}
		mu.Lock()
		on(t, p)
		mu.Unlock()
	}
}

// Close sends TEARDOWN (briefly, best effort) and closes the connection.
func (c *Client) Close() error {
	if c.session != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _ = c.do(ctx, "TEARDOWN", c.contentBase.String(), nil)
		cancel()
	}
	for _, t := range c.tracks {
		t.close()
	}
	return c.conn.Close()
}
