package rtsp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Bounds of what the parser accepts.
const (
	MaxHeadBytes = 16 << 10 // status or request line and headers
	MaxHeaders   = 64       // header lines
	MaxBodyBytes = 64 << 10 // a body (an SDP)
)

// Header holds a message's headers by lower-case name.
type Header map[string][]string

// Get returns the first value of name.
func (h Header) Get(name string) string {
	if v := h[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces name's values with v.
func (h Header) Set(name, v string) { h[strings.ToLower(name)] = []string{v} }

// Add appends a value to name.
func (h Header) Add(name, v string) { k := strings.ToLower(name); h[k] = append(h[k], v) }

// canonical names for writing; others are written as given in lower case with capitals after dashes.
var canonical = map[string]string{"cseq": "CSeq", "www-authenticate": "WWW-Authenticate", "rtp-info": "RTP-Info"}

func headerName(k string) string {
	if c, ok := canonical[k]; ok {
		return c
	}
	b := []byte(k)
	up := true
	for i, c := range b {
		if up && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '-'
	}
	return string(b)
}

func (h Header) write(b *bytes.Buffer) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(headerName(k))
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteString("\r\n")
		}
	}
}

// Request is an RTSP request.
type Request struct {
	Method string
	URL    string
	Header Header
	Body   []byte
}

// Response is an RTSP response.
type Response struct {
	Status int
	Reason string
	Header Header
	Body   []byte
}

// Bytes renders the request.
func (r *Request) Bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\n", r.Method, r.URL)
	writeHeadBody(&b, r.Header, r.Body)
	return b.Bytes()
}

// Bytes renders the response.
func (r *Response) Bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "RTSP/1.0 %d %s\r\n", r.Status, r.Reason)
	writeHeadBody(&b, r.Header, r.Body)
	return b.Bytes()
}

func writeHeadBody(b *bytes.Buffer, h Header, body []byte) {
	if h == nil {
		h = Header{}
	}
	if len(body) > 0 {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	h.write(b)
	b.WriteString("\r\n")
	b.Write(body)
}

// readLine reads one line ending in LF (CRLF or bare LF) within *budget bytes.
func readLine(br *bufio.Reader, budget *int) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", fmt.Errorf("%w: head over %d bytes", ErrTooLarge, MaxHeadBytes)
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readHead reads the first line and the headers of a message, then its body.
func readMessage(br *bufio.Reader) (first string, h Header, body []byte, err error) {
	budget := MaxHeadBytes
	first, err = readLine(br, &budget)
	if err != nil {
		return "", nil, nil, err
	}
	h = Header{}
	n := 0
	var last string
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			return "", nil, nil, err
		}
		if line == "" {
			break
		}
		if n++; n > MaxHeaders {
			return "", nil, nil, fmt.Errorf("%w: over %d headers", ErrTooLarge, MaxHeaders)
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" { // obsolete line folding
			v := h[last]
			v[len(v)-1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return "", nil, nil, fmt.Errorf("%w: header line %q", ErrMalformed, clip(line))
		}
		last = strings.ToLower(k)
		h.Add(last, strings.TrimSpace(v))
	}
	if cl := h.Get("Content-Length"); cl != "" {
		size, err := strconv.Atoi(cl)
		if err != nil || size < 0 {
			return "", nil, nil, fmt.Errorf("%w: Content-Length %q", ErrMalformed, clip(cl))
		}
		if size > MaxBodyBytes {
			return "", nil, nil, fmt.Errorf("%w: body of %d bytes (at most %d)", ErrTooLarge, size, MaxBodyBytes)
		}
		body = make([]byte, size)
		if _, err := io.ReadFull(br, body); err != nil {
			return "", nil, nil, fmt.Errorf("rtsp: reading a body: %w", err)
		}
	}
	return first, h, body, nil
}

// ReadResponse reads one response.
func ReadResponse(br *bufio.Reader) (*Response, error) {
	first, h, body, err := readMessage(br)
	if err != nil {
		return nil, err
	}
	return parseStatusLine(first, h, body)
}

func parseStatusLine(first string, h Header, body []byte) (*Response, error) {
	proto, rest, _ := strings.Cut(first, " ")
	code, reason, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "RTSP/1.") || len(code) != 3 {
		return nil, fmt.Errorf("%w: status line %q", ErrMalformed, clip(first))
	}
	st, err := strconv.Atoi(code)
	if err != nil || st < 100 || st > 599 {
		return nil, fmt.Errorf("%w: status line %q", ErrMalformed, clip(first))
	}
	return &Response{Status: st, Reason: reason, Header: h, Body: body}, nil
}

// ReadRequest reads one request.
func ReadRequest(br *bufio.Reader) (*Request, error) {
	first, h, body, err := readMessage(br)
	if err != nil {
		return nil, err
	}
	return parseRequestLine(first, h, body)
}

func parseRequestLine(first string, h Header, body []byte) (*Request, error) {
	parts := strings.Split(first, " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "RTSP/1.") || !isToken(parts[0]) || parts[1] == "" {
		return nil, fmt.Errorf("%w: request line %q", ErrMalformed, clip(first))
	}
	return &Request{Method: parts[0], URL: parts[1], Header: h, Body: body}, nil
}

func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || c == '_' || c == '-' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// clip shortens a value for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Redact returns u without its password, for logs and errors.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	if p.User != nil {
		p.User = url.User(p.User.Username())
	}
	return p.String()
}

// Session is a parsed Session header: "ID;timeout=60" (RFC 2326 §12.37).
func parseSession(v string) (id string, timeout int) {
	id, params, _ := strings.Cut(v, ";")
	timeout = 60
	for _, p := range strings.Split(params, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "timeout") {
			if n, err := strconv.Atoi(val); err == nil && n > 0 && n < 24*3600 {
				timeout = n
			}
		}
	}
	return strings.TrimSpace(id), timeout
}
