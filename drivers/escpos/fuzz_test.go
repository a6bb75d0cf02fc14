package escpos

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/escpos/escpossim"
	"github.com/bailiff/bailiff/drivers/escpos/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
	"github.com/bailiff/bailiff/internal/wire"
)

// FuzzDecodeStatus feeds four bytes from the wire, the answers to DLE EOT 1-4, to the
// status decoder.
func FuzzDecodeStatus(f *testing.F) {
	for _, s := range golden.Statuses {
		b := golden4(s)
		f.Add(b[:])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b [4]byte
		copy(b[:], data)
		st, err := pollOf(b)
		if err != nil {
			var fe *FaultError
			if !errors.Is(err, errGarbled) && !errors.As(err, &fe) {
				t.Fatalf("error %v of an unexpected kind", err)
			}
			if drivers.Code(err) != "device_error" {
				t.Fatalf("error %v has code %s", err, drivers.Code(err))
			}
			if errors.Is(err, errGarbled) {
				return
			}
		}
		switch st["paper"] {
		case "ok", "near_end", "out":
		default:
			t.Fatalf("paper %v", st["paper"])
		}
		if st["cover"] != "open" && st["cover"] != "closed" {
			t.Fatalf("cover %v", st["cover"])
		}
		if (err == nil) != (st["paper"] != "out" && st["cover"] == "closed" && st["error"] == "none" && st["online"] == true) {
			t.Fatalf("state %v with error %v", st, err)
		}
	})
}

// FuzzTicket feeds print args to the ticket layout and reads the bytes back with the
// simulator's parser: whatever the args, the printer prints the text given (as text) and
// the QR payload, cuts once and is asked nothing.
func FuzzTicket(f *testing.F) {
	for _, tk := range golden.Tickets {
		f.Add(tk.Args.Number, tk.Args.Service, strings.Join(tk.Args.Lines, "\n"), tk.Args.QR, tk.Width, tk.Encoding == "utf-8")
	}
	f.Fuzz(func(t *testing.T, number, service, lines, qr string, width int, utf bool) {
		l := Layout{Width: max(MinWidth, min(MaxWidth, width)), Encoding: "ascii"}
		if utf {
			l.Encoding = "utf-8"
		}
		args := wire.PrintArgs{Number: number, Service: service, QR: qr}
		if lines != "" {
			args.Lines = strings.Split(lines, "\n")
		}
		b, err := l.Ticket(args, golden.At)
		if err != nil {
			if drivers.Code(err) != "bad_args" {
				t.Fatalf("Ticket: %v", err)
			}
			return
		}
		var p escpossim.Parser
		if ans := p.Write(b); len(ans) != 0 {
			t.Fatalf("the ticket made the printer answer % x", ans)
		}
		ts := p.Tickets()
		if len(ts) != 1 || ts[0].Cut != "partial" || len(p.Pending().Lines) != 0 {
			t.Fatalf("%d tickets, pending %+v", len(ts), p.Pending())
		}
		if p.Unknown() != 0 {
			t.Fatalf("%d unknown commands", p.Unknown())
		}
		if qr != "" && !(len(ts[0].QRs()) == 1 && ts[0].QRs()[0] == qr) {
			t.Fatalf("QR %q, want %q", ts[0].QRs(), qr)
		}
		if qr == "" && len(ts[0].QRs()) != 0 {
			t.Fatalf("QR %q from nothing", ts[0].QRs())
		}
		text := strings.Join(ts[0].Texts(), "")
		if want := string(l.text(strings.Join(wrap(number, max(1, l.Width/numberSize(number, l.Width))), ""))); number != "" && !strings.Contains(text, strings.TrimSpace(want)) {
			t.Fatalf("number %q (%q) not in %q", number, want, text)
		}
		if l.Encoding == "ascii" {
			for i := 0; i < len(text); i++ {
				if text[i] >= 0x80 {
					t.Fatalf("ascii ticket printed % x", text[i])
				}
			}
		} else if utf8.ValidString(number+service+lines) && !utf8.ValidString(text) {
			t.Fatalf("utf-8 ticket printed invalid UTF-8 %q", text)
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds the golden tables as seeds; run
// go test ./drivers/escpos -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, s := range golden.Statuses {
		b := golden4(s)
		c.Add("FuzzDecodeStatus", s.Name, b[:])
	}
	for _, tk := range golden.Tickets {
		c.Add("FuzzTicket", tk.Name, tk.Args.Number, tk.Args.Service,
			strings.Join(tk.Args.Lines, "\n"), tk.Args.QR, tk.Width, tk.Encoding == "utf-8")
	}
	fuzzseed.Check(t, c)
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
