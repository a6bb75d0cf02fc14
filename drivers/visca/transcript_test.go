package visca

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/visca/internal/golden"
)

// script is one step of a fake camera: the packet it expects, then the packets it answers.
type script struct {
	expect  []byte
	answers [][]byte
}

// fakeStream serves one net.Pipe as a bare VISCA camera (or serial line) playing steps,
// failing t when the driver sends anything else. It returns a dial function for Options.
func fakeStream(t *testing.T, steps ...script) func(context.Context) (net.Conn, error) {
	t.Helper()
	var dialled atomic.Bool
	return func(context.Context) (net.Conn, error) {
		if dialled.Swap(true) {
			t.Errorf("dialled twice")
			return nil, net.ErrClosed
		}
		client, cam := net.Pipe()
		done := make(chan struct{})
		t.Cleanup(func() { cam.Close(); <-done })
		go func() {
			defer close(done)
			defer cam.Close()
			cam.SetDeadline(time.Now().Add(5 * time.Second))
			r := newFrameReader(cam)
			for _, s := range steps {
				got, err := r.next()
				if err != nil {
					t.Errorf("fake: read request: %v", err)
					return
				}
				if !bytes.Equal(got, s.expect) {
					t.Errorf("driver sent [% X], want [% X]", got, s.expect)
					return
				}
				// The driver may stop reading a garbled answer; a failed write is fine then.
				cam.Write(bytes.Join(s.answers, nil))
			}
		}()
		return client, nil
	}
}

func transcriptOptions(dial func(context.Context) (net.Conn, error), cam int) Options {
	return Options{Dial: dial, Camera: cam, Timeout: 500 * time.Millisecond, CompletionTimeout: 500 * time.Millisecond,
		Retransmit: 100 * time.Millisecond}
}

// runFrame sends a golden frame's request through c as an exchange and decodes the answer.
func runFrame(c *Camera, f golden.Frame) (drivers.State, error) {
	inq := isInquiry(f.Request)
	ans, err := c.exchange(context.Background(), "transcript "+f.Name, f.Request, inq)
	if err != nil || !inq {
		return nil, err
	}
	return decoders[f.Cmd](ans)
}

func TestTranscriptGolden(t *testing.T) {
	for _, f := range golden.Frames {
		if f.Cmd == "" || f.Cmd == "addressset" || f.Cmd == "ifclearall" || f.Serial {
			continue
		}
		t.Run("tcp/"+f.Name, func(t *testing.T) {
			c, err := New("tcp://camera:1259", transcriptOptions(fakeStream(t, script{f.Request, f.Replies}), 1))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, err := runFrame(c, f)
			checkResult(t, f.Want, f.Code, got, err)
		})
	}
	// On a serial line of seven cameras, after the line is set up.
	for i, f := range golden.Frames {
		if f.Cmd == "" || f.Cmd == "addressset" || f.Cmd == "ifclearall" {
			continue
		}
		t.Run("serial/"+f.Name, func(t *testing.T) {
			dial := fakeStream(t,
				script{addressSet, [][]byte{{0x88, 0x30, 0x08, 0xFF}}},
				script{ifClearAll, [][]byte{ifClearAll}},
				script{f.Request, f.Replies})
			c, err := New(fmt.Sprintf("serial:/dev/transcript-%d", i), transcriptOptions(dial, camOf(f)))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, err := runFrame(c, f)
			checkResult(t, f.Want, f.Code, got, err)
		})
	}
}

// A serial line: replies of other cameras, network changes and IR messages are skipped.
func TestTranscriptSerialSkips(t *testing.T) {
	dial := fakeStream(t,
		script{addressSet, [][]byte{{0x90, 0x51, 0xFF}, {0x88, 0x30, 0x03, 0xFF}}}, // a late completion first
		script{ifClearAll, [][]byte{ifClearAll}},
		script{inqPower(2), [][]byte{{0x90, 0x50, 0x03, 0xFF}, {0xA0, 0x38, 0xFF}, {0x90, 0x07, 0x7D, 0x01, 0x04, 0x00, 0xFF}, {0xA0, 0x50, 0x02, 0xFF}}},
		// The network change makes the driver set the line up again.
		script{addressSet, [][]byte{{0x88, 0x30, 0x03, 0xFF}}},
		script{ifClearAll, [][]byte{ifClearAll}},
		script{cmdHome(2), [][]byte{{0xA0, 0x41, 0xFF}, {0x90, 0x51, 0xFF}, {0xA0, 0x51, 0xFF}}},
	)
	c, err := New("serial:/dev/transcript-skips", transcriptOptions(dial, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if ans, err := c.Inquire(ctx, 0x09, 0x04, 0x00); err != nil || !bytes.Equal(ans, []byte{0x02}) {
		t.Fatalf("power = [% X], %v", ans, err)
	}
	if err := c.Home(ctx); err != nil {
		t.Fatalf("home: %v", err)
	}
}

// fakeIP serves one net.Pipe as a VISCA over IP camera: handle answers each datagram.
func fakeIP(t *testing.T, handle func(n int, d []byte) [][]byte) func(context.Context) (net.Conn, error) {
	return func(context.Context) (net.Conn, error) {
		client, cam := net.Pipe()
		done := make(chan struct{})
		t.Cleanup(func() { cam.Close(); <-done })
		go func() {
			defer close(done)
			defer cam.Close()
			buf := make([]byte, 256)
			for n := 1; ; n++ {
				cam.SetDeadline(time.Now().Add(5 * time.Second))
				k, err := cam.Read(buf)
				if err != nil {
					return
				}
				for _, a := range handle(n, append([]byte(nil), buf[:k]...)) {
					if _, err := cam.Write(a); err != nil {
						return
					}
				}
			}
		}()
		return client, nil
	}
}

var (
	resetMsg = golden.IP(0x0200, 0, 0x01)
	resetAck = golden.IP(0x0201, 0, 0x01)
)

func seqOf(d []byte) uint32 {
	return uint32(d[4])<<24 | uint32(d[5])<<16 | uint32(d[6])<<8 | uint32(d[7])
}

// withSeq returns a datagram with the sequence number of req.
func withSeq(d, req []byte) []byte {
	out := append([]byte(nil), d...)
	if len(out) >= 8 && len(req) >= 8 {
		copy(out[4:8], req[4:8])
	}
	return out
}

// TestTranscriptDatagrams plays the replies of each golden datagram to the driver's message.
func TestTranscriptDatagrams(t *testing.T) {
	for _, d := range golden.Datagrams {
		typ, _, payload, err := decodeIP(d.Request)
		if err != nil || (typ != typeCommand && typ != typeInquiry) || d.Sim != nil && len(d.Sim.Before) > 0 {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			var sent [][]byte
			dial := fakeIP(t, func(n int, req []byte) [][]byte {
				sent = append(sent, req)
				if bytes.Equal(req, resetMsg) {
					return [][]byte{resetAck}
				}
				// After a sequence error the driver resets and sends again: same answer.
				var out [][]byte
				for _, r := range d.Replies {
					out = append(out, withSeq(r, req))
				}
				return out
			})
			c, err := New("udp://camera", transcriptOptions(dial, 1))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.exchange(context.Background(), d.Name, payload, typ == typeInquiry)
			checkResult(t, nil, d.Code, nil, err)
			if len(sent) < 2 || !bytes.Equal(sent[0], resetMsg) || !bytes.Equal(sent[1], encodeIP(typ, 1, payload)) {
				t.Fatalf("driver sent %X, want RESET then the message with sequence number 1", sent)
			}
		})
	}
}

func TestTranscriptIPSequence(t *testing.T) {
	power := cmdPower(1, true)
	ack := func(req []byte) []byte { return withSeq(golden.IP(0x0111, 0, 0x90, 0x41, 0xFF), req) }
	done := func(req []byte) []byte { return withSeq(golden.IP(0x0111, 0, 0x90, 0x51, 0xFF), req) }
	seqErr := func(req []byte) []byte { return withSeq(golden.IP(0x0200, 0, 0x0F, 0x01), req) }

	t.Run("fresh message refused: reset and send again", func(t *testing.T) {
		var sent [][]byte
		dial := fakeIP(t, func(n int, req []byte) [][]byte {
			sent = append(sent, req)
			switch {
			case bytes.Equal(req, resetMsg):
				return [][]byte{resetAck}
			case n == 2:
				return [][]byte{seqErr(req)}
			}
			return [][]byte{ack(req), done(req)}
		})
		c, _ := New("udp://camera", transcriptOptions(dial, 1))
		defer c.Close()
		if err := c.SetPower(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		want := [][]byte{resetMsg, encodeIP(typeCommand, 1, power), resetMsg, encodeIP(typeCommand, 1, power)}
		if fmt.Sprintf("%X", sent) != fmt.Sprintf("%X", want) {
			t.Fatalf("sent %X, want %X", sent, want)
		}
	})
	t.Run("ack lost: retransmission refused, completion comes", func(t *testing.T) {
		var sent [][]byte
		dial := fakeIP(t, func(n int, req []byte) [][]byte {
			sent = append(sent, req)
			switch n {
			case 1:
				return [][]byte{resetAck}
			case 2:
				return nil // the ACK and completion are late
			}
			return [][]byte{seqErr(req), done(req)}
		})
		c, _ := New("udp://camera", transcriptOptions(dial, 1))
		defer c.Close()
		if err := c.SetPower(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if len(sent) != 3 || !bytes.Equal(sent[1], sent[2]) {
			t.Fatalf("sent %X: want the message twice with the same sequence number", sent)
		}
	})
	t.Run("completion lost: asking again confirms it ran", func(t *testing.T) {
		var sent [][]byte
		dial := fakeIP(t, func(n int, req []byte) [][]byte {
			sent = append(sent, req)
			switch n {
			case 1:
				return [][]byte{resetAck}
			case 2:
				return [][]byte{ack(req)}
			}
			return [][]byte{seqErr(req)}
		})
		c, _ := New("udp://camera", transcriptOptions(dial, 1))
		defer c.Close()
		t0 := time.Now()
		if err := c.SetPower(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d < 500*time.Millisecond {
			t.Fatalf("done after %v, before the completion timeout", d)
		}
		if len(sent) != 3 || !bytes.Equal(sent[1], sent[2]) {
			t.Fatalf("sent %X", sent)
		}
	})
	t.Run("inquiry answer lost: asked again with a new number", func(t *testing.T) {
		var sent [][]byte
		dial := fakeIP(t, func(n int, req []byte) [][]byte {
			sent = append(sent, req)
			switch n {
			case 1:
				return [][]byte{resetAck}
			case 2:
				return nil
			case 3:
				return [][]byte{seqErr(req)}
			}
			return [][]byte{withSeq(golden.IP(0x0111, 0, 0x90, 0x50, 0x02, 0xFF), req)}
		})
		c, _ := New("udp://camera", transcriptOptions(dial, 1))
		defer c.Close()
		ans, err := c.Inquire(context.Background(), 0x09, 0x04, 0x00)
		if err != nil || !bytes.Equal(ans, []byte{0x02}) {
			t.Fatalf("inquire = [% X], %v", ans, err)
		}
		if len(sent) != 4 || seqOf(sent[1]) != 1 || seqOf(sent[2]) != 1 || seqOf(sent[3]) != 2 {
			t.Fatalf("sent %X", sent)
		}
	})
	t.Run("late replies to an earlier number are skipped", func(t *testing.T) {
		dial := fakeIP(t, func(n int, req []byte) [][]byte {
			if n == 1 {
				return [][]byte{resetAck}
			}
			old := append([]byte(nil), req...)
			old[7]--
			return [][]byte{withSeq(golden.IP(0x0111, 0, 0x90, 0x60, 0x02, 0xFF), old), resetAck, ack(req), done(req)}
		})
		c, _ := New("udp://camera", transcriptOptions(dial, 1))
		defer c.Close()
		if err := c.SetPower(context.Background(), true); err != nil {
			t.Fatal(err)
		}
	})
}
