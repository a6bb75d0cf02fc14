package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

func TestEnrollAnswers(t *testing.T) {
	var code int
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/enroll" || r.Method != "POST" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(code)
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		code      int
		answer    string
		want      string // error substring; "" for success
		hub, user string
	}{
		{200, `{"site":"s","room":"r","broker":"tcp://127.0.0.1:1883","username":"agent/s/r","password":"pw"}`, "", srv.URL, ""},
		{401, `{"error":{"code":"unauthorized","message":"the token has been used"}}`, "the token has been used", srv.URL, ""},
		{500, `oops`, "500", srv.URL, ""},
		{200, `{"site":"s","room":"r","broker":"tcp://h:1","username":"agent/s/other","password":"pw"}`, "valid user name", srv.URL, ""},
		{200, `{"site":"s","room":"r","broker":"ftp://h","username":"agent/s/r","password":"pw"}`, "scheme", srv.URL, ""},
		{200, `{"site":"s","room":"r","broker":"tcp://h:1","username":"agent/s/r","password":"a\nbroker: x"}`, "line break", srv.URL, ""},
		{200, `[]`, "does not decode", srv.URL, ""},
		{200, ``, "", "ftp://hub", "want http(s)"},
	} {
		code, answer = tc.code, tc.answer
		en, err := Enroll(context.Background(), tc.hub, "tok", nil)
		want := tc.want + tc.user
		if want == "" {
			if err != nil || en.Credentials.Password != "pw" || en.Site != "s" {
				t.Errorf("%s: %+v, %v", tc.answer, en, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", tc.answer, err, want)
		}
	}
}

func TestWriteCredentialsReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.yaml")
	e := Enrolled{Site: "s", Room: "r", Credentials: Credentials{Broker: "tcp://127.0.0.1:1883", Username: "agent/s/r", Password: "p: w#x"}}
	if err := WriteCredentials(path, e); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	c, err := LoadCredentials(path)
	if err != nil || c != e.Credentials {
		t.Fatalf("read back %v, %v; want %v", c, err, e.Credentials)
	}
	if got := ConfigCacheFor(path); got != strings.TrimSuffix(path, ".yaml")+".config.json" {
		t.Fatalf("ConfigCacheFor = %s", got)
	}
}

// FuzzEnrollAnswer: whatever the hub answers, the agent takes only complete, consistent
// credentials, which it can write and read back.
func FuzzEnrollAnswer(f *testing.F) {
	f.Add(200, []byte(`{"site":"s","room":"r","broker":"tcp://127.0.0.1:1883","username":"agent/s/r","password":"pw"}`))
	f.Add(401, []byte(`{"error":{"code":"unauthorized","message":"used"}}`))
	f.Add(200, []byte(`{"site":"s","room":"r","broker":"tcp://h:1","username":"agent/s/r","password":"a\nb"}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, code int, raw []byte) {
		e, err := parseEnrollAnswer(code, "status", raw, answerCheck{})
		if err != nil {
			return
		}
		path := filepath.Join(dir, "c.yaml")
		if err := WriteCredentials(path, e); err != nil {
			t.Fatal(err)
		}
		c, err := LoadCredentials(path)
		if err != nil || c.Broker != e.Credentials.Broker || c.Username != e.Credentials.Username {
			t.Fatalf("%q: wrote %+v, read back %+v, %v", raw, e.Credentials, c, err)
		}
	})
}

func TestBootstrapRoom(t *testing.T) {
	r, err := BootstrapRoom("agent/court/r9")
	if err != nil || r.Site != "court" || r.Room != "r9" || len(r.Devices) != 0 || r.Poll.D() == 0 {
		t.Fatalf("BootstrapRoom = %+v, %v", r, err)
	}
	if _, err := BootstrapRoom("observer"); err == nil {
		t.Fatal("a user name that names no room")
	}
}

// tlsFixtures are the pki package's committed test CA and agent key and certificate.
func tlsFixtures(t testing.TB) (caPEM, keyPEM, certPEM []byte) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "pki", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return read("ca.pem"), read("agent.key"), read("agent.pem")
}

func enrollAnswer(ca, cert string) []byte {
	b, _ := json.Marshal(map[string]string{"site": "court", "room": "r1", "broker": "ssl://127.0.0.1:8883",
		"username": "agent/court/r1", "password": "pw", "ca": ca, "certificate": cert})
	return b
}

// TestEnrollAnswerTLS: the agent keeps the hub's CA only when it matches the pin (or came over
// verified https), and the certificate only when it is from that CA, for its own key and its
// own room.
func TestEnrollAnswerTLS(t *testing.T) {
	caPEM, keyPEM, certPEM := tlsFixtures(t)
	certs, _ := pki.ParseCertificates(caPEM)
	fp := pki.Fingerprint(certs[0])
	otherKey, _, _ := pki.NewAgentKey()
	for _, tc := range []struct {
		name string
		raw  []byte
		chk  answerCheck
		ok   bool
	}{
		{"pinned", enrollAnswer(string(caPEM), string(certPEM)), answerCheck{fingerprint: fp, key: keyPEM}, true},
		{"https", enrollAnswer(string(caPEM), string(certPEM)), answerCheck{verified: true, key: keyPEM}, true},
		{"http without pin", enrollAnswer(string(caPEM), string(certPEM)), answerCheck{key: keyPEM}, false},
		{"wrong pin", enrollAnswer(string(caPEM), string(certPEM)), answerCheck{fingerprint: strings.Repeat("0", 64), key: keyPEM}, false},
		{"another key", enrollAnswer(string(caPEM), string(certPEM)), answerCheck{fingerprint: fp, key: otherKey}, false},
		{"not asked", enrollAnswer(string(caPEM), string(certPEM)), answerCheck{fingerprint: fp}, false},
		{"certificate as CA", enrollAnswer(string(certPEM), string(certPEM)), answerCheck{verified: true, key: keyPEM}, false},
		{"certificate without CA", enrollAnswer("", string(certPEM)), answerCheck{verified: true, key: keyPEM}, false},
		{"CA only", enrollAnswer(string(caPEM), ""), answerCheck{fingerprint: fp, key: keyPEM}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := parseEnrollAnswer(200, "200 OK", tc.raw, tc.chk)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				return
			}
			tcfg, err := e.Credentials.TLSConfig("")
			if err != nil || tcfg.RootCAs == nil {
				t.Fatalf("TLS config: %v", err)
			}
		})
	}
}

// FuzzEnrollAnswerTLS: whatever a hub (or someone in between) answers, the agent keeps a
// certificate only if it is for its own key, from the pinned CA, and names its room; and the
// credentials it keeps make a TLS configuration.
func FuzzEnrollAnswerTLS(f *testing.F) {
	caPEM, keyPEM, _ := tlsFixtures(f)
	certs, _ := pki.ParseCertificates(caPEM)
	fp := pki.Fingerprint(certs[0])
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := parseEnrollAnswer(200, "200 OK", raw, answerCheck{fingerprint: fp, key: keyPEM})
		if err != nil {
			return
		}
		if _, err := e.Credentials.TLSConfig(""); err != nil {
			t.Fatalf("kept credentials that make no TLS configuration: %v", err)
		}
		if e.Credentials.Certificate != "" {
			cs, err := pki.ParseCertificates([]byte(e.Credentials.Certificate))
			if err != nil {
				t.Fatal(err)
			}
			if s, r, ok := pki.AgentIdentity(cs[0]); !ok || s != e.Site || r != e.Room || cs[0].CheckSignatureFrom(certs[0]) != nil {
				t.Fatalf("kept a certificate for %s/%s not from the CA", s, r)
			}
		}
	})
}

// TestEnrollTLSSeedCorpus checks (or, with -update-corpus, writes) the committed seeds of
// FuzzEnrollAnswerTLS, made from the pki fixtures.
func TestEnrollTLSSeedCorpus(t *testing.T) {
	caPEM, _, certPEM := tlsFixtures(t)
	c := fuzzseed.Corpus{}
	c.Add("FuzzEnrollAnswerTLS", "ca and certificate", enrollAnswer(string(caPEM), string(certPEM)))
	c.Add("FuzzEnrollAnswerTLS", "ca only", enrollAnswer(string(caPEM), ""))
	c.Add("FuzzEnrollAnswerTLS", "swapped", enrollAnswer(string(certPEM), string(caPEM)))
	c.Add("FuzzEnrollAnswerTLS", "no ca", enrollAnswer("", string(certPEM)))
	fuzzseed.Check(t, c)
}
