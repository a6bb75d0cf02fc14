package escpos

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/escpos/escpossim"
	"github.com/bailiff/bailiff/drivers/escpos/internal/golden"
)

// pollOf decodes four status bytes as Poll does.
func pollOf(b [4]byte) (drivers.State, error) {
	var st Status
	for i, n := range []byte{1, 2, 3, 4} {
		if err := decodeStatus(n, b[i], &st); err != nil {
			return nil, err
		}
	}
	if f := st.Faults(); len(f) > 0 {
		return st.State(), &FaultError{Faults: f}
	}
	return st.State(), nil
}

// golden4 returns the four answers of a golden frame: its reply for its request, all clear
// for the others.
func golden4(f golden.Status) [4]byte {
	b := [4]byte{0x12, 0x12, 0x12, 0x12}
	b[f.N-1] = f.Reply
	return b
}

func checkCode(t *testing.T, code string, err error) {
	t.Helper()
	if code == "" && err != nil {
		t.Fatalf("error %v, want none", err)
	}
	if code != "" {
		if err == nil {
			t.Fatalf("no error, want %s", code)
		}
		if c := drivers.Code(err); c != code {
			t.Fatalf("error %q has code %s, want %s", err, c, code)
		}
	}
}

func TestStatusGolden(t *testing.T) {
	for _, f := range golden.Statuses {
		t.Run(f.Name, func(t *testing.T) {
			if got := string(StatusRequest(f.N)); got != f.Request {
				t.Fatalf("request % x, want % x", got, f.Request)
			}
			st, err := pollOf(golden4(f))
			checkCode(t, f.Code, err)
			if f.Want == nil {
				if !errors.Is(err, errGarbled) || st != nil {
					t.Fatalf("state %v, error %v: want a garbled reply", st, err)
				}
				return
			}
			if !reflect.DeepEqual(map[string]any(st), f.Want) {
				t.Fatalf("state %v, want %v", st, f.Want)
			}
		})
	}
}

func TestTicketGolden(t *testing.T) {
	for _, f := range golden.Tickets {
		t.Run(f.Name, func(t *testing.T) {
			l := Layout{Width: f.Width, Encoding: f.Encoding}
			if l.Width == 0 {
				l.Width = DefaultWidth
			}
			b, err := l.Ticket(f.Args, f.At)
			checkCode(t, f.Code, err)
			if f.Code != "" {
				return
			}
			if string(b) != f.Bytes {
				t.Fatalf("ticket\n%q\nwant\n%q", b, f.Bytes)
			}
			// The simulator's parser prints what the table says.
			var p escpossim.Parser
			if ans := p.Write(b); len(ans) != 0 {
				t.Fatalf("the ticket made the printer answer % x", ans)
			}
			checkPrinted(t, &p, f)
		})
	}
}

func checkPrinted(t *testing.T, p *escpossim.Parser, f golden.Ticket) {
	t.Helper()
	got := p.Pending()
	if f.Cut != "" {
		ts := p.Tickets()
		if len(ts) != 1 || len(p.Pending().Lines) != 0 {
			t.Fatalf("%d tickets, pending %+v", len(ts), p.Pending())
		}
		got = ts[0]
	}
	if got.Cut != f.Cut || !reflect.DeepEqual(got.Texts(), f.Texts) || !reflect.DeepEqual(got.QRs(), f.QR) {
		t.Fatalf("printed %q %q cut %q, want %q %q cut %q", got.Texts(), got.QRs(), got.Cut, f.Texts, f.QR, f.Cut)
	}
	if p.Unknown() != 0 {
		t.Fatalf("%d unknown commands", p.Unknown())
	}
	if f.Args.Number != "" {
		l, ok := got.Line(f.Args.Number)
		if !ok || !l.Bold || l.Width < 3 || l.Width != l.Height || l.Align != "center" {
			t.Fatalf("number line %+v", l)
		}
	}
}

func TestQRStoreLength(t *testing.T) {
	data := strings.Repeat("x", 300)
	b := qrStore(data)
	if b[3] != byte(303%256) || b[4] != byte(303/256) || len(b) != 8+300 || string(b[5:8]) != "1P0" {
		t.Fatalf("store header % x", b[:8])
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"short", 10, []string{"short"}},
		{"abcdefghijklmnop", 5, []string{"abcde", "fghij", "klmno", "p"}},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		{"民事立案民事立案", 4, []string{"民事立案", "民事立案"}},
	} {
		if got := wrap(c.in, c.width); !reflect.DeepEqual(got, c.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

func TestTextNeverHoldsControlBytes(t *testing.T) {
	for _, enc := range []string{"ascii", "utf-8"} {
		b := Layout{Encoding: enc}.text("a\x1b@\x1dV\x00\x10\x04\x01\r\n\t\x7f\u0085é\xff")
		for _, c := range b {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("%s: control byte in % x", enc, b)
			}
		}
	}
}

func TestParseOptions(t *testing.T) {
	l, so, err := ParseOptions(map[string]string{"width": "32", "encoding": "UTF-8", "baud": "19200", "parity": "even"})
	if err != nil || l.Width != 32 || l.Encoding != "utf-8" || so.Baud != 19200 || so.Parity != "even" {
		t.Fatalf("ParseOptions = %+v %+v %v", l, so, err)
	}
	l, _, err = ParseOptions(nil)
	if err != nil || l != (Layout{Width: 48, Encoding: "ascii"}) {
		t.Fatalf("defaults %+v, %v", l, err)
	}
	for _, bad := range []map[string]string{
		{"width": "8"}, {"width": "200"}, {"width": "x"}, {"encoding": "gbk"}, {"baud": "12"}, {"parity": "mark"},
		{"cut": "yes"},
	} {
		if _, _, err := ParseOptions(bad); drivers.Code(err) != "bad_args" {
			t.Errorf("ParseOptions(%v): %v, want bad_args", bad, err)
		}
	}
}

func TestFaultError(t *testing.T) {
	err := &FaultError{Faults: []string{"paper out", "cover open"}}
	if err.Error() != "paper out, cover open: device error" || !errors.Is(err, drivers.ErrDevice) {
		t.Fatalf("%v", err)
	}
	if got := (Status{Online: true, NearEnd: true}).Faults(); got != nil {
		t.Fatalf("near end is a fault: %v", got)
	}
	if got := (Status{}).Faults(); !reflect.DeepEqual(got, []string{"offline"}) {
		t.Fatalf("offline: %v", got)
	}
}

func TestNumberSize(t *testing.T) {
	for _, c := range []struct {
		n     string
		width int
		want  int
	}{{"A023", 48, 4}, {"B-10234567", 32, 3}, {"123456789012345678901234567890", 32, 1}, {"", 48, 4}} {
		if got := numberSize(c.n, c.width); got != c.want {
			t.Errorf("numberSize(%q, %d) = %d, want %d", c.n, c.width, got, c.want)
		}
	}
}
