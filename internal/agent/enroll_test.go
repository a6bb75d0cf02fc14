package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
