package rtsp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/bailiff/bailiff/media/clips"
)

// Server defaults.
const (
	DefaultSessionTimeout = 60 * time.Second
	DefaultMaxConns       = 64
)

// Mode is how a Server behaves.
type Mode int32

// Modes of a Server.
const (
	Normal  Mode = iota
	Garbage      // bytes that are neither frames nor messages between the frames (TCP)
	Stall        // the streams stop; connections stay open
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// User and Password, when User is set, are required of every request.
	User, Password string
	// Basic challenges with Basic instead of Digest (both are accepted either way).
	Basic bool
	Realm string // default "bailiff"
	// SessionTimeout is announced in the Session header; a connection silent for longer is
	// closed. Default DefaultSessionTimeout.
	SessionTimeout time.Duration
	MaxConns       int // default DefaultMaxConns
	MTU            int // largest RTP packet; default clips.DefaultMTU
	Logger         *slog.Logger
	// ParamsOutOfBand sends H.264 without SPS and PPS in the stream, only in the SDP's
	// sprop-parameter-sets, as some cameras do.
	ParamsOutOfBand bool
	// OnPacket, when set, is called with every RTP packet just before it is sent, from the
	// sending goroutine.
	OnPacket func(path string, track int, p *rtp.Packet)
}

// Server serves looping clips over RTSP.
type Server struct {
	o     ServerOptions
	log   *slog.Logger
	mu    sync.Mutex
	paths map[string][]*clips.Clip
	ln    net.Listener
	conns map[*sconn]struct{}
	mode  atomic.Int32
	wg    sync.WaitGroup
	done  chan struct{}

	playing atomic.Int64
}

// NewServer makes a server with no paths.
func NewServer(o ServerOptions) *Server {
	if o.Realm == "" {
		o.Realm = "bailiff"
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = DefaultSessionTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Server{o: o, log: o.Logger, paths: map[string][]*clips.Clip{}, conns: map[*sconn]struct{}{}, done: make(chan struct{})}
}

// AddPath serves video (H.264) and, if not nil, audio (Opus) at path ("cam1", "live/main").
func (s *Server) AddPath(path string, video, audio *clips.Clip) error {
	if video == nil || video.Codec != clips.H264 {
		return errors.New("rtsp: a path needs an H.264 clip")
	}
	if audio != nil && audio.Codec != clips.Opus {
		return errors.New("rtsp: a path's audio must be Opus")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := []*clips.Clip{video}
	if audio != nil {
		tr = append(tr, audio)
	}
	s.paths[strings.Trim(path, "/")] = tr
	return nil
}

// Listen listens on addr (loopback, e.g. "127.0.0.1:0") and serves until Close. It returns
// the address listened on.
func (s *Server) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("rtsp: listen: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept(ln)
	return ln.Addr().String(), nil
}

// URL is the rtsp:// URL of path on the server, without credentials.
func (s *Server) URL(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return "rtsp://" + s.ln.Addr().String() + "/" + strings.Trim(path, "/")
}

// SetMode makes the server misbehave (or behave again).
func (s *Server) SetMode(m Mode) { s.mode.Store(int32(m)) }

// Playing is how many sessions are playing.
func (s *Server) Playing() int { return int(s.playing.Load()) }

// DropSessions closes every connection, as a camera that reboots does.
func (s *Server) DropSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.conn.Close()
	}
}

// Close stops listening, ends every session and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if len(s.conns) >= s.o.MaxConns {
			s.mu.Unlock()
			conn.Close()
			continue
		}
		c := &sconn{s: s, conn: conn, nonce: randomHex(16), tracks: map[int]*strack{}}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// sconn is one client connection and its session.
type sconn struct {
	s       *Server
	conn    net.Conn
	wmu     sync.Mutex
	nonce   string
	session string
	path    string
	tracks  map[int]*strack
	cancel  context.CancelFunc
	play    sync.WaitGroup
}

type strack struct {
	player  *clips.Player
	channel uint8        // interleaved
	udp     *net.UDPConn // UDP: the server's socket
	rtcp    *net.UDPConn
	dest    *net.UDPAddr
}

func (c *sconn) serve() {
	defer c.s.wg.Done()
	defer func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.play.Wait()
		c.conn.Close()
		for _, t := range c.tracks {
			if t.udp != nil {
				t.udp.Close()
				t.rtcp.Close()
			}
		}
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	}()
	rd := NewReader(c.conn)
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(c.s.o.SessionTimeout))
		m, err := rd.Next()
		if errors.Is(err, ErrMalformed) {
			c.reply(&Response{Status: 400, Reason: "Bad Request", Header: Header{}})
			continue
		}
		if err != nil {
			return
		}
		if m.Request == nil {
			continue // RTCP from the client, or a stray response
		}
		resp := c.handle(m.Request)
		resp.Header.Set("CSeq", m.Request.Header.Get("CSeq"))
		resp.Header.Set("Server", "bailiff-rtsp")
		if !c.reply(resp) || m.Request.Method == "TEARDOWN" {
			return
		}
	}
}

func (c *sconn) reply(r *Response) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.conn.Write(r.Bytes())
	return err == nil
}

func status(code int, reason string) *Response {
	return &Response{Status: code, Reason: reason, Header: Header{}}
}

// target splits a request URL into its path and track ("cam1/trackID=1" → "cam1", 1).
func target(raw string) (path string, track int, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0, err
	}
	p := strings.Trim(u.Path, "/")
	track = -1
	if i := strings.LastIndex(p, "/trackID="); i >= 0 {
		n, err := strconv.Atoi(p[i+len("/trackID="):])
		if err != nil || n < 0 || n > 16 {
			return "", 0, fmt.Errorf("bad track in %q", clip(raw))
		}
		p, track = p[:i], n
	}
	return p, track, nil
}

func (c *sconn) handle(r *Request) *Response {
	if c.s.o.User != "" && !checkAuth(r.Header.Get("Authorization"), r.Method, c.s.o.User, c.s.o.Password, c.s.o.Realm, c.nonce) {
		resp := status(401, "Unauthorized")
		if c.s.o.Basic {
			resp.Header.Set("WWW-Authenticate", `Basic realm="`+c.s.o.Realm+`"`)
		} else {
			resp.Header.Set("WWW-Authenticate", `Digest realm="`+c.s.o.Realm+`", nonce="`+c.nonce+`"`)
		}
		return resp
	}
	if c.session != "" && r.Method != "OPTIONS" && r.Method != "DESCRIBE" {
		if id, _ := parseSession(r.Header.Get("Session")); id != c.session && (r.Method != "SETUP" || id != "") {
			return status(454, "Session Not Found")
		}
	}
	path, track, err := target(r.URL)
	if err != nil {
		return status(400, "Bad Request")
	}
	c.s.mu.Lock()
	tracks, known := c.s.paths[path]
	c.s.mu.Unlock()
	switch r.Method {
	case "OPTIONS":
		resp := status(200, "OK")
		resp.Header.Set("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER")
		return resp
	case "GET_PARAMETER":
		return status(200, "OK")
	case "DESCRIBE":
		if !known {
			return status(404, "Not Found")
		}
		resp := status(200, "OK")
		resp.Header.Set("Content-Type", "application/sdp")
		resp.Header.Set("Content-Base", "rtsp://"+c.conn.LocalAddr().String()+"/"+path+"/")
		resp.Body = sdpOf(tracks)
		return resp
	case "SETUP":
		if !known || track < 0 || track >= len(tracks) {
			return status(404, "Not Found")
		}
		if c.path != "" && c.path != path {
			return status(459, "Aggregate Operation Not Allowed")
		}
		if c.cancel != nil {
			return status(455, "Method Not Valid in This State")
		}
		clip := tracks[track]
		if c.s.o.ParamsOutOfBand && clip.Codec == clips.H264 {
			clip = clip.WithoutParameterSets()
		}
		t := &strack{player: clips.NewPlayer(clip, clips.PlayerOptions{PayloadType: uint8(96 + track), MTU: c.s.o.MTU})}
		tp := r.Header.Get("Transport")
		var reply string
		switch {
		case strings.Contains(strings.ToUpper(tp), "RTP/AVP/TCP"):
			ch := uint8(2 * track)
			if v, ok := transportParam(tp, "interleaved"); ok {
				a, _, _ := strings.Cut(v, "-")
				n, err := strconv.Atoi(a)
				if err != nil || n < 0 || n > 254 {
					return status(461, "Unsupported Transport")
				}
				ch = uint8(n)
			}
			t.channel = ch
			reply = fmt.Sprintf("RTP/AVP/TCP;unicast;interleaved=%d-%d;ssrc=%08X", ch, ch+1, t.player.SSRC())
		case strings.Contains(strings.ToUpper(tp), "RTP/AVP"):
			v, ok := transportParam(tp, "client_port")
			a, _, _ := strings.Cut(v, "-")
			port, err := strconv.Atoi(a)
			if !ok || err != nil || port <= 0 || port > 65535 {
				return status(461, "Unsupported Transport")
			}
			ip := c.conn.LocalAddr().(*net.TCPAddr).IP
			if t.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: ip}); err != nil {
				return status(500, "Internal Server Error")
			}
			if t.rtcp, err = net.ListenUDP("udp", &net.UDPAddr{IP: ip}); err != nil {
				t.udp.Close()
				return status(500, "Internal Server Error")
			}
			t.dest = &net.UDPAddr{IP: c.conn.RemoteAddr().(*net.TCPAddr).IP, Port: port}
			reply = fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d;server_port=%d-%d;ssrc=%08X", port, port+1,
				t.udp.LocalAddr().(*net.UDPAddr).Port, t.rtcp.LocalAddr().(*net.UDPAddr).Port, t.player.SSRC())
		default:
			return status(461, "Unsupported Transport")
		}
		if old := c.tracks[track]; old != nil && old.udp != nil {
			old.udp.Close()
			old.rtcp.Close()
		}
		c.tracks[track] = t
		c.path = path
		if c.session == "" {
			c.session = randomHex(8)
		}
		resp := status(200, "OK")
		resp.Header.Set("Transport", reply)
		resp.Header.Set("Session", fmt.Sprintf("%s;timeout=%d", c.session, int(c.s.o.SessionTimeout/time.Second)))
		return resp
	case "PLAY":
		if len(c.tracks) == 0 {
			return status(455, "Method Not Valid in This State")
		}
		resp := status(200, "OK")
		if c.cancel == nil {
			var info []string
			for i, t := range c.tracks {
				info = append(info, fmt.Sprintf("url=rtsp://%s/%s/trackID=%d;seq=%d;rtptime=%d", c.conn.LocalAddr(), c.path, i, t.player.SequenceNumber(), t.player.Timestamp()))
			}
			resp.Header.Set("RTP-Info", strings.Join(info, ","))
			ctx, cancel := context.WithCancel(context.Background())
			c.cancel = cancel
			c.s.playing.Add(1)
			for i, t := range c.tracks {
				c.play.Add(1)
				go c.stream(ctx, i, t)
			}
			context.AfterFunc(ctx, func() { c.s.playing.Add(-1) })
		}
		resp.Header.Set("Range", "npt=0.000-")
		resp.Header.Set("Session", c.session)
		return resp
	case "TEARDOWN":
		return status(200, "OK")
	}
	return status(501, "Not Implemented")
}

// stream plays one track until the session ends.
func (c *sconn) stream(ctx context.Context, track int, t *strack) {
	defer c.play.Done()
	n := 0
	err := t.player.Run(ctx, func(pkts []*rtp.Packet) error {
		if Mode(c.s.mode.Load()) == Stall {
			return nil
		}
		for _, p := range pkts {
			b, err := p.Marshal()
			if err != nil {
				return err
			}
			if c.s.o.OnPacket != nil {
				c.s.o.OnPacket(c.path, track, p)
			}
			if t.udp != nil {
				if _, err := t.udp.WriteToUDP(b, t.dest); err != nil {
					return err
				}
			} else {
				var junk []byte
				if n++; Mode(c.s.mode.Load()) == Garbage && n%7 == 0 {
					junk = garbage()
				}
				if err := c.writeFrame(junk, Frame{Channel: t.channel, Payload: b}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		c.conn.Close() // a client that cannot keep up, or a dead one
	}
}

func (c *sconn) writeFrame(junk []byte, f Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if len(junk) > 0 {
		if _, err := c.conn.Write(junk); err != nil {
			return err
		}
	}
	_, err := c.conn.Write(f.Bytes())
	return err
}

// garbage is bytes that look like neither a frame nor a message: a stray '$' of a channel
// nobody set up, text, binary noise.
func garbage() []byte {
	b := []byte{'$', 200, 0, 10, 'x', 'R', 'T', 'S', 'P', '/', '2'}
	for range rand.IntN(40) {
		c := byte(rand.IntN(256))
		if c == '$' || c == 'R' || (c >= 'A' && c <= 'Z') {
			c = 'x'
		}
		b = append(b, c)
	}
	return b
}

// sdpOf describes a path's tracks.
func sdpOf(tracks []*clips.Clip) []byte {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Bailiff clip\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n")
	for i, c := range tracks {
		pt := 96 + i
		switch c.Codec {
		case clips.H264:
			fmt.Fprintf(&b, "m=video 0 RTP/AVP %d\r\na=rtpmap:%d H264/90000\r\n", pt, pt)
			fmt.Fprintf(&b, "a=fmtp:%d packetization-mode=1;profile-level-id=%s;sprop-parameter-sets=%s,%s\r\n", pt, c.ProfileLevelID,
				base64.StdEncoding.EncodeToString(c.SPS), base64.StdEncoding.EncodeToString(c.PPS))
		case clips.Opus:
			fmt.Fprintf(&b, "m=audio 0 RTP/AVP %d\r\na=rtpmap:%d opus/48000/2\r\na=fmtp:%d sprop-stereo=1\r\n", pt, pt, pt)
		}
		fmt.Fprintf(&b, "a=control:trackID=%d\r\n", i)
	}
	return []byte(b.String())
}

// ServeCamera starts a server that streams the bundled H.264 picture and Opus sound at path,
// listening on addr: a simulated IP camera's stream. Close it when done.
func ServeCamera(addr, path string, o ServerOptions) (*Server, error) {
	srv := NewServer(o)
	if err := srv.AddPath(path, clips.MustGet(clips.H264), clips.MustGet(clips.Opus)); err != nil {
		return nil, err
	}
	if _, err := srv.Listen(addr); err != nil {
		return nil, err
	}
	return srv, nil
}
