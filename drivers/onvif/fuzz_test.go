package onvif

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/onvif/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzParseReply feeds an HTTP status and body to the parser of the answer to an operation:
// the SOAP envelope, a fault, and the operation's response.
func FuzzParseReply(f *testing.F) {
	for _, e := range golden.Exchanges {
		f.Add([]byte(e.Reply), e.Op, e.HTTPStatus())
	}
	f.Fuzz(func(t *testing.T, body []byte, op string, status int) {
		if _, ok := ops[op]; !ok {
			op = "GetStatus"
		}
		got, err := decode(op, status, body)
		if err != nil {
			var fault *Fault
			if !errors.As(err, &fault) && !errors.Is(err, errGarbled) && !errors.Is(err, ErrAuth) && !errors.Is(err, drivers.ErrDevice) {
				t.Fatalf("error %v is neither a fault, garbled, refused credentials nor a device error", err)
			}
			if c := drivers.Code(err); c == "unreachable" || c == "timeout" {
				t.Fatalf("error %v has code %s", err, c)
			}
			if fault != nil {
				if fault.Code == "" || len(fault.Subcodes) > maxSubcodes || fault.Status != status {
					t.Fatalf("fault %+v", fault)
				}
				checkText(t, fault.Error())
			}
			if got != nil {
				t.Fatalf("decoded %v with error %v", got, err)
			}
			return
		}
		for k, v := range got {
			switch v := v.(type) {
			case float64:
				if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e9 {
					t.Fatalf("%s = %v", k, v)
				}
			case string:
				checkText(t, v)
				if (k == "media" || k == "ptz") && v != "" && !strings.HasPrefix(v, "/") {
					t.Fatalf("%s path %q", k, v)
				}
			case []string:
				for _, s := range v {
					if s == "" || strings.HasPrefix(s, "=") {
						t.Fatalf("%s holds %q", k, s)
					}
					if k != "presets" {
						continue
					}
					tok, name, _ := strings.Cut(s, "=")
					if strings.TrimSpace(tok) != tok {
						t.Fatalf("preset token %q not trimmed", tok)
					}
					checkText(t, name)
				}
			case bool:
			default:
				t.Fatalf("%s has type %T", k, v)
			}
		}
	})
}

// checkText checks that text from the camera is fit for a message: UTF-8, no control characters.
func checkText(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%q is not UTF-8", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			t.Fatalf("%q holds a control character", s)
		}
	}
}

var xaddrSeeds = []string{
	"http://192.168.1.10/onvif/ptz_service", "http://[fe80::1]:8080/onvif/PTZ?a=b", "https://cam/onvif/media",
	"http://cam", "ptz service", "", " http://a/b http://c/d ", "ftp://cam/x", "http://%zz/", "http://cam/a%20b",
}

// FuzzXAddrPath feeds a service address from a camera to xaddrPath.
func FuzzXAddrPath(f *testing.F) {
	for _, s := range xaddrSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, xaddr string) {
		p, err := xaddrPath(xaddr)
		if err != nil {
			if !errors.Is(err, errGarbled) || drivers.Code(err) != "device_error" {
				t.Fatalf("xaddrPath(%q) error %v", xaddr, err)
			}
			return
		}
		if !strings.HasPrefix(p, "/") {
			t.Fatalf("xaddrPath(%q) = %q", xaddr, p)
		}
		// The path is appended to the camera's base URL: it must not change the host.
		c, err := New("127.0.0.1:80", Options{})
		if err != nil {
			t.Fatal(err)
		}
		u := c.url(&session{ptz: p}, ptzService)
		if !strings.HasPrefix(u, "http://127.0.0.1:80/") {
			t.Fatalf("URL %q from %q", u, xaddr)
		}
		c.Close()
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden exchange as a seed; run
// go test ./drivers/onvif -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, e := range golden.Exchanges {
		c.Add("FuzzParseReply", e.Name, []byte(e.Reply), e.Op, e.HTTPStatus())
	}
	for i, s := range xaddrSeeds {
		c.Add("FuzzXAddrPath", fmt.Sprintf("seed-%d", i), s)
	}
	fuzzseed.Check(t, c)
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
