package hubcli

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The profiler serves on loopback only, and serves there.
func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		if ln, err := servePprof(addr); err == nil {
			ln.Close()
			t.Errorf("%s: accepted", addr)
		}
	}
	ln, err := servePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "goroutine") {
		t.Errorf("GET /debug/pprof/: %d", resp.StatusCode)
	}
}
