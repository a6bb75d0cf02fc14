package visca

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/visca/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// maxFuzzInput bounds the streams the fuzz targets read: the fuzzer's minimization of a long
// interesting input takes time that grows with its square (golang/go#48820).
const maxFuzzInput = 512

// checkReply checks what parseReply made of p.
func checkReply(t *testing.T, p []byte, r reply, err error) {
	if err != nil {
		if !errors.Is(err, errGarbled) || drivers.Code(err) != "device_error" {
			t.Fatalf("parseReply([% X]) error %v is not a garbled reply", p, err)
		}
		return
	}
	if len(p) < 3 || len(p) > maxPacket || p[len(p)-1] != terminator {
		t.Fatalf("parseReply accepted [% X]", p)
	}
	switch r.kind {
	case replyACK:
		if r.socket < 1 || r.socket > 15 || len(p) != 3 {
			t.Fatalf("ACK %+v from [% X]", r, p)
		}
	case replyCompletion, replyNetworkChange:
		if len(p) != 3 {
			t.Fatalf("%+v from [% X]", r, p)
		}
	case replyAnswer:
		if len(r.data) != len(p)-3 || bytes.IndexByte(r.data, terminator) >= 0 {
			t.Fatalf("answer %+v from [% X]", r, p)
		}
	case replyError:
		if len(p) != 4 {
			t.Fatalf("error %+v from [% X]", r, p)
		}
	case replyAddressSet:
		if n := r.data[0]; n < 1 || n > 8 {
			t.Fatalf("address set %+v from [% X]", r, p)
		}
	case replyEcho, replyIFClear, replyUnsolicited:
	default:
		t.Fatalf("kind %d from [% X]", r.kind, p)
	}
	if r.kind != replyAddressSet && r.kind != replyIFClear && (r.from < 1 || r.from > 7) {
		t.Fatalf("reply from camera %d: [% X]", r.from, p)
	}
}

// FuzzParseReply feeds one packet from the wire to parseReply.
func FuzzParseReply(f *testing.F) {
	for _, s := range replySeeds() {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := parseReply(p)
		checkReply(t, p, r, err)
	})
}

// FuzzStream feeds bytes from a TCP connection or serial line to the frame reader and each
// packet to parseReply and to the exchange state of an inquiry or a command, as an exchange
// does, checking that it ends once at most and with an answer or error of the right kind.
func FuzzStream(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add(bytes.Join(fr.Replies, nil), isInquiry(fr.Request))
	}
	f.Fuzz(func(t *testing.T, data []byte, inquiry bool) {
		if len(data) > maxFuzzInput {
			return
		}
		fr := newFrameReader(bytes.NewReader(data))
		x := exchangeState{inquiry: inquiry}
		done := false
		for n := 0; ; n++ {
			if n > len(data) {
				t.Fatalf("frame reader loops on [% X]", data)
			}
			p, err := fr.next()
			if err != nil {
				if errors.Is(err, errGarbled) {
					continue
				}
				return
			}
			if len(p) > maxPacket || p[len(p)-1] != terminator || bytes.IndexByte(p, terminator) != len(p)-1 {
				t.Fatalf("frame reader returned [% X]", p)
			}
			r, err := parseReply(p)
			checkReply(t, p, r, err)
			if err != nil || done {
				continue
			}
			ended, ans, err := x.feed(r)
			if !ended {
				continue
			}
			done = true
			var re *ReplyError
			switch {
			case err != nil && !errors.As(err, &re):
				t.Fatalf("exchange ended with %v", err)
			case err == nil && inquiry && ans == nil:
				t.Fatalf("inquiry ended without an answer")
			case err == nil && !inquiry && ans != nil:
				t.Fatalf("command ended with an answer [% X]", ans)
			}
		}
	})
}

// FuzzParseIP feeds one datagram from a camera to parseIP.
func FuzzParseIP(f *testing.F) {
	for _, d := range golden.Datagrams {
		f.Add(d.Request)
		for _, r := range d.Replies {
			f.Add(r)
		}
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		m, err := parseIP(d)
		if err != nil {
			if !errors.Is(err, errGarbled) || drivers.Code(err) != "device_error" {
				t.Fatalf("parseIP([% X]) error %v", d, err)
			}
			return
		}
		typ, seq, payload, err := decodeIP(d)
		if err != nil || seq != m.seq || !bytes.Equal(encodeIP(typ, seq, payload), d) {
			t.Fatalf("parseIP accepted [% X] that does not round-trip", d)
		}
		if m.control {
			if typ != typeControl && typ != typeControlReply {
				t.Fatalf("control from type %04X", typ)
			}
			return
		}
		if typ != typeReply || !bytes.Equal(m.raw, payload) {
			t.Fatalf("reply from [% X]: %+v", d, m)
		}
		checkReply(t, payload, m.reply, nil)
	})
}

// FuzzDecodeAnswer feeds an inquiry's answer to the decoders Poll uses.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range answerSeeds() {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, q := range inquiries {
			st, err := q.decode(data)
			if err != nil {
				var ve *valueError
				if !errors.As(err, &ve) || st != nil || drivers.Code(err) != "device_error" {
					t.Fatalf("%s decoder: %v, %v", q.name, st, err)
				}
				continue
			}
			for k, v := range st {
				switch k {
				case "power":
					if v != "on" && v != "off" {
						t.Fatalf("power %v", v)
					}
				case "zoom":
					if z := v.(int); z < 0 || z > math.MaxUint16 {
						t.Fatalf("zoom %d", z)
					}
				case "pan", "tilt":
					if p := v.(int); p < math.MinInt16 || p > math.MaxInt16 {
						t.Fatalf("%s %d", k, p)
					}
				case "vendor", "model":
					if v.(string) == "" {
						t.Fatalf("empty %s", k)
					}
				default:
					t.Fatalf("unknown field %s", k)
				}
			}
		}
	})
}

// FuzzOptions feeds a room config's option values to the factory.
func FuzzOptions(f *testing.F) {
	for _, s := range optionSeeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, address, camera, pan, baud string) {
		opts := map[string]string{}
		for k, v := range map[string]string{"camera": camera, "max_pan_speed": pan, "baud": baud} {
			if v != "" {
				opts[k] = v
			}
		}
		d, err := factory(drivers.Config{ID: "cam", Address: address, Options: opts})
		if err != nil {
			if drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), "visca: ") {
				t.Fatalf("factory(%q, %v) error %v", address, opts, err)
			}
			return
		}
		c := d.(*Camera)
		defer c.Close()
		if c.cam < 1 || c.cam > 7 || c.opts.MaxPanSpeed < 1 || c.opts.MaxPanSpeed > MaxPanSpeed {
			t.Fatalf("factory(%q, %v) made %+v", address, opts, c.opts)
		}
	})
}

var optionSeeds = [][4]string{
	{"10.0.0.7", "", "", ""}, {"udp://10.0.0.7", "1", "0x18", ""}, {"serial:/dev/ttyUSB0", "3", "12", "38400"},
	{"serial:/dev/ttyUSB0", "8", "", ""}, {"10.0.0.7", "2", "", ""}, {"10.0.0.7", "", "", "9600"},
	{"", "", "", ""}, {"http://x", "", "", ""}, {"/dev/ttyS0", "07", "0x19", "fast"},
}

type seed struct {
	name string
	data []byte
}

func replySeeds() []seed {
	var out []seed
	for _, fr := range golden.Frames {
		for i, r := range fr.Replies {
			out = append(out, seed{fmt.Sprintf("%s-%d", fuzzseed.Name(fr.Name), i+1), r})
		}
	}
	for _, u := range golden.Unsolicited {
		out = append(out, seed{fuzzseed.Name(u.Name), u.Packet})
	}
	return out
}

// answerSeeds are the data of the inquiry answers of the golden table.
func answerSeeds() []seed {
	var out []seed
	for _, fr := range golden.Frames {
		if !isInquiry(fr.Request) || len(fr.Replies) != 1 {
			continue
		}
		if p := fr.Replies[0]; len(p) > 3 && p[1] == 0x50 {
			out = append(out, seed{fuzzseed.Name(fr.Name), p[2 : len(p)-1]})
		}
	}
	return out
}

// TestSeedCorpus checks that testdata/fuzz holds every golden frame as a seed; run
// go test ./drivers/visca -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, s := range replySeeds() {
		c.Add("FuzzParseReply", s.name, s.data)
	}
	for _, fr := range golden.Frames {
		c.Add("FuzzStream", fr.Name, bytes.Join(fr.Replies, nil), isInquiry(fr.Request))
	}
	for _, d := range golden.Datagrams {
		c.Add("FuzzParseIP", fuzzseed.Name(d.Name)+"-request", d.Request)
		for i, r := range d.Replies {
			c.Add("FuzzParseIP", fmt.Sprintf("%s-%d", fuzzseed.Name(d.Name), i+1), r)
		}
	}
	for _, s := range answerSeeds() {
		c.Add("FuzzDecodeAnswer", s.name, s.data)
	}
	for i, s := range optionSeeds {
		c.Add("FuzzOptions", fmt.Sprintf("seed-%d", i), s[0], s[1], s[2], s[3])
	}
	fuzzseed.Check(t, c)
}

// TestSeedCorpusParses checks that every file under testdata/fuzz is in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
