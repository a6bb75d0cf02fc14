package onvif

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/onvif/internal/golden"
)

// servicePath is where a discovered session sends each service's requests in these tests.
var servicePath = map[service]string{deviceService: DevicePath, mediaService: "/onvif/Media", ptzService: "/onvif/PTZ"}

// TestTranscriptGolden sends every golden request through a Camera's HTTP exchange to a fake
// camera that checks the request and plays the golden answer, and decodes it as the driver
// does.
func TestTranscriptGolden(t *testing.T) {
	for _, e := range golden.Exchanges {
		t.Run(e.Name, func(t *testing.T) {
			o := ops[e.Op]
			fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			const offset = -90 * time.Minute
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.URL.Path != servicePath[o.service] {
					t.Errorf("%s %s, want POST %s", r.Method, r.URL.Path, servicePath[o.service])
				}
				if ct := r.Header.Get("Content-Type"); ct != contentType+`; action="`+soapAction(o)+`"` {
					t.Errorf("Content-Type %q", ct)
				}
				s := string(body)
				if i, j := strings.Index(s, "<s:Body>"), strings.LastIndex(s, "</s:Body>"); i < 0 || j < i || s[i+len("<s:Body>"):j] != e.Request {
					t.Errorf("request body\n%s\nwant the element\n%s", s, e.Request)
				}
				hasToken := strings.Contains(s, "<wsse:UsernameToken>")
				if hasToken != o.auth {
					t.Errorf("UsernameToken sent: %v, want %v", hasToken, o.auth)
				}
				if hasToken {
					// The token is stamped with the camera's clock, the agent's plus the offset.
					created := fixed.Add(offset).Format(createdLayout)
					nonce := bytes.Repeat([]byte{7}, 16)
					want := "<wsse:Password Type=\"" + passwordDigestType + "\">" + passwordDigest(nonce, created, "pw") + "</wsse:Password>" +
						"<wsse:Nonce EncodingType=\"" + base64BinaryType + "\">" + base64.StdEncoding.EncodeToString(nonce) +
						"</wsse:Nonce><wsu:Created>" + created + "</wsu:Created>"
					if !strings.Contains(s, want) {
						t.Errorf("token\n%s\nwant\n%s", s, want)
					}
				}
				w.Header().Set("Content-Type", contentType)
				w.WriteHeader(e.HTTPStatus())
				io.WriteString(w, e.Reply)
			}))
			defer srv.Close()

			c, err := New(strings.TrimPrefix(srv.URL, "http://"), Options{Username: "admin", Password: "pw", Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.now = func() time.Time { return fixed }
			c.nonce = func(b []byte) {
				for i := range b {
					b[i] = 7
				}
			}
			s := &session{offset: offset, media: servicePath[mediaService], ptz: servicePath[ptzService], profile: e.Args.Profile}
			status, reply, err := c.call(context.Background(), s, o, encode(t, e))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			got, err := decode(e.Op, status, reply)
			check(t, e, got, err)
		})
	}
}
