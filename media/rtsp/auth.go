package rtsp

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// challenge is one WWW-Authenticate challenge.
type challenge struct {
	scheme string // "basic" or "digest"
	params map[string]string
}

// parseChallenge parses `Digest realm="x", nonce="y", qop="auth"` or `Basic realm="x"`.
func parseChallenge(v string) (challenge, bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	c := challenge{scheme: strings.ToLower(scheme), params: parseAuthParams(rest)}
	return c, c.scheme == "basic" || c.scheme == "digest"
}

// parseAuthParams parses comma-separated k=v or k="v" pairs, honouring quotes.
func parseAuthParams(s string) map[string]string {
	out := map[string]string{}
	for len(out) < 32 {
		s = strings.TrimLeft(s, " ,\t")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			break
		}
		k := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var v string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			v = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			v, s = strings.TrimSpace(s[:end]), s[end:]
		}
		out[k] = v
	}
	return out
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// authorizer answers challenges for one user, Digest preferred over Basic.
type authorizer struct {
	user, pass string
	c          *challenge
	nc         int
}

// pick chooses the strongest challenge the client can answer.
func (a *authorizer) pick(values []string) error {
	var basic, digest *challenge
	for _, v := range values {
		c, ok := parseChallenge(v)
		if !ok {
			continue
		}
		switch c.scheme {
		case "digest":
			if alg := strings.ToUpper(c.params["algorithm"]); alg != "" && alg != "MD5" {
				continue
			}
			if c.params["nonce"] == "" {
				continue
			}
			digest = &c
		case "basic":
			basic = &c
		}
	}
	switch {
	case digest != nil:
		a.c = digest
	case basic != nil:
		a.c = basic
	default:
		return fmt.Errorf("rtsp: no supported authentication scheme in %q (want Digest MD5 or Basic)", clip(strings.Join(values, "; ")))
	}
	a.nc = 0
	return nil
}

// header returns the Authorization header for a request, or "" before any challenge.
func (a *authorizer) header(method, uri string) string {
	if a.c == nil {
		return ""
	}
	if a.c.scheme == "basic" {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.pass))
	}
	p := a.c.params
	ha1 := md5hex(a.user + ":" + p["realm"] + ":" + a.pass)
	ha2 := md5hex(method + ":" + uri)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s"`, quoteEsc(a.user), quoteEsc(p["realm"]), quoteEsc(p["nonce"]), quoteEsc(uri))
	qop := ""
	for _, q := range strings.Split(p["qop"], ",") {
		if strings.TrimSpace(q) == "auth" {
			qop = "auth"
		}
	}
	if qop != "" {
		a.nc++
		nc := fmt.Sprintf("%08x", a.nc)
		cnonce := randomHex(8)
		resp := md5hex(ha1 + ":" + p["nonce"] + ":" + nc + ":" + cnonce + ":auth:" + ha2)
		fmt.Fprintf(&b, `, response="%s", qop=auth, nc=%s, cnonce="%s"`, resp, nc, cnonce)
	} else {
		fmt.Fprintf(&b, `, response="%s"`, md5hex(ha1+":"+p["nonce"]+":"+ha2))
	}
	if op, ok := p["opaque"]; ok {
		fmt.Fprintf(&b, `, opaque="%s"`, quoteEsc(op))
	}
	if p["algorithm"] != "" {
		b.WriteString(", algorithm=MD5")
	}
	return b.String()
}

func quoteEsc(s string) string { return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkAuth verifies an Authorization header on the server side: Basic, or Digest against
// the nonce the server issued (qop=auth or none).
func checkAuth(h, method, user, pass, realm, nonce string) bool {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	switch strings.ToLower(scheme) {
	case "basic":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return false
		}
		return subtle.ConstantTimeCompare(b, []byte(user+":"+pass)) == 1
	case "digest":
		p := parseAuthParams(rest)
		if p["username"] != user || p["realm"] != realm || p["nonce"] != nonce || p["uri"] == "" {
			return false
		}
		ha1 := md5hex(user + ":" + realm + ":" + pass)
		ha2 := md5hex(method + ":" + p["uri"])
		want := md5hex(ha1 + ":" + nonce + ":" + ha2)
		if p["qop"] == "auth" {
			want = md5hex(ha1 + ":" + nonce + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
		}
		return subtle.ConstantTimeCompare([]byte(want), []byte(p["response"])) == 1
	}
	return false
}
