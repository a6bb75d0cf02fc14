package loadgen

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// metricsTable is text the hub's /metrics may answer, good and bad.
var metricsTable = []struct{ name, in string }{
	{"gauge", "# HELP bailiff_agents_online Agents online now.\n# TYPE bailiff_agents_online gauge\nbailiff_agents_online 1000\n"},
	{"histogram", `bailiff_command_duration_seconds_bucket{action="power",outcome="ok",le="0.005"} 3
bailiff_command_duration_seconds_bucket{action="power",outcome="ok",le="+Inf"} 7
bailiff_command_duration_seconds_sum{action="power",outcome="ok"} 0.07
bailiff_command_duration_seconds_count{action="power",outcome="ok"} 7
`},
	{"exponent", "go_memstats_alloc_bytes 2.5e+07\n"},
	{"brace in label", "x{a=\"}\"} 1\n"},
	{"no value", "x\n"},
	{"unterminated labels", "x{a=\"b\" 1\n"},
	{"not a number", "x abc\n"},
	{"NaN and Inf", "x NaN\ny +Inf\n"},
}

// credsTable is credentials files, good and bad.
var credsTable = []struct{ name, in string }{
	{"good", `{"broker":"tcp://127.0.0.1:1883","site":"load","api_user":"loadgen","api_password":"pw","agents":[{"room":"r0001","password":"x"}]}`},
	{"bad site", `{"site":"Bad Site","api_user":"u","api_password":"p","agents":[{"room":"r1"}]}`},
	{"bad room", `{"site":"load","api_user":"u","api_password":"p","agents":[{"room":"r/1"}]}`},
	{"no agents", `{"site":"load","api_user":"u","api_password":"p","agents":[]}`},
	{"not json", `site: load`},
}

func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, tc := range metricsTable {
		c.Add("FuzzParseMetrics", tc.name, []byte(tc.in))
	}
	for _, tc := range credsTable {
		c.Add("FuzzParseCreds", tc.name, []byte(tc.in))
	}
	fuzzseed.Check(t, c)
}

// Metrics text never panics the parser, and the histogram reader and the quantile bound
// take whatever it holds.
func FuzzParseMetrics(f *testing.F) {
	for _, tc := range metricsTable {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetrics(bytes.NewReader(b))
		if err == nil && m == nil {
			t.Fatal("no map and no error")
		}
		h := histogram(b, "bailiff_command_duration_seconds_bucket")
		quantileBound(nil, h, 0.99)
		quantileBound(h, h, 0.5)
	})
}

// A credentials file that parses names valid IDs only (they go into topics and URLs).
func FuzzParseCreds(f *testing.F) {
	for _, tc := range credsTable {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCreds("fuzz", b)
		if err != nil {
			return
		}
		if strings.ContainsAny(c.Site, "/+#") || len(c.Agents) == 0 {
			t.Fatalf("accepted %+v", c)
		}
		for _, a := range c.Agents {
			if strings.ContainsAny(a.Room, "/+#") {
				t.Fatalf("accepted room %q", a.Room)
			}
		}
	})
}
