package extron

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/extron/internal/golden"
)

// script is one step of a fake switcher: the bytes it expects, then the bytes it answers.
type script struct{ expect, answer string }

// fake is a switcher on the far end of a net.Pipe that plays the same greeting and steps on
// every connection, failing t when the driver sends anything else.
type fake struct {
	t        *testing.T
	greeting string
	steps    []script
	hangUp   bool // close the line after the last step instead of waiting for the driver

	mu    sync.Mutex
	dials int
}

func (f *fake) dial(context.Context) (net.Conn, error) {
	f.mu.Lock()
	f.dials++
	f.mu.Unlock()
	client, sw := net.Pipe()
	done := make(chan struct{})
	f.t.Cleanup(func() { sw.Close(); <-done })
	go func() {
		defer close(done)
		defer sw.Close()
		sw.SetDeadline(time.Now().Add(5 * time.Second))
		// net.Pipe has no buffer: the greeting goes out while the driver may already be
		// writing its first command, as over TCP.
		greeted := make(chan struct{})
		go func() {
			defer close(greeted)
			io.WriteString(sw, f.greeting)
		}()
		for _, s := range f.steps {
			got := make([]byte, len(s.expect))
			if _, err := io.ReadFull(sw, got); err != nil {
				f.t.Errorf("fake: read %q: %v", s.expect, err)
				return
			}
			if string(got) != s.expect {
				f.t.Errorf("driver sent %q, want %q", got, s.expect)
				return
			}
			<-greeted
			// The driver may stop reading a garbled answer; a failed write is fine then.
			io.WriteString(sw, s.answer)
		}
		if !f.hangUp {
			io.Copy(io.Discard, sw)
		}
	}()
	return client, nil
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dials
}

func TestTranscriptGolden(t *testing.T) {
	for _, fr := range golden.Frames {
		t.Run(fr.Name, func(t *testing.T) {
			f := &fake{t: t, steps: []script{{fr.Request, fr.Reply}}, hangUp: fr.Code == "unreachable"}
			s := New(f.dial, Options{Timeout: 2 * time.Second})
			defer s.Close()
			res, err := s.exchange(context.Background(), "test", requestFor(fr))
			var got any
			if err == nil {
				got, err = res[0].v, res[0].err
				if sz, ok := got.(matrixSize); ok {
					got = golden.Size(sz)
				}
			}
			checkFrame(t, fr, got, err)
			want := 1
			if fr.Code == "unreachable" {
				want = 2 // one retry on a fresh link
			}
			if n := f.count(); n != want {
				t.Fatalf("%d dials, want %d", n, want)
			}
		})
	}
}

const banner = "(c) Copyright 2008, Extron Electronics, MAV Plus, V1.23, 60-1234-01\r\nTue, 02 Dec 2025 10:00:00\r\n"

func TestTranscriptPassword(t *testing.T) {
	t.Run("right password", func(t *testing.T) {
		f := &fake{t: t, greeting: banner + "Password:", steps: []script{
			{"s3cret\r", "\r\nLogin Administrator\r\n"},
			{"1*3!", "Out03 In01 All\r\n"},
		}}
		s := New(f.dial, Options{Password: "s3cret"})
		defer s.Close()
		if err := s.Route(context.Background(), "1", "3", "av"); err != nil {
			t.Fatal(err)
		}
		if s.model != "MAV Plus" {
			t.Fatalf("model %q from the greeting", s.model)
		}
	})
	t.Run("prompt with a line end", func(t *testing.T) {
		f := &fake{t: t, greeting: banner + "\r\nPassword:\r\n", steps: []script{
			{"pw\r", "\r\nLogin User\r\n"},
			{"2%", "03\r\n"},
		}}
		s := New(f.dial, Options{Password: "pw"})
		defer s.Close()
		if in, err := s.Tied(context.Background(), 2, Video); err != nil || in != 3 {
			t.Fatalf("Tied = %d, %v", in, err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		f := &fake{t: t, greeting: banner + "Password:", steps: []script{{"nope\r", "\r\nPassword:"}}}
		s := New(f.dial, Options{Password: "nope"})
		defer s.Close()
		err := s.Route(context.Background(), "1", "3", "av")
		if !errors.Is(err, ErrAuth) || drivers.Code(err) != "device_error" || strings.Contains(err.Error(), "nope") {
			t.Fatalf("error %v, want ErrAuth without the password", err)
		}
		if f.count() != 1 {
			t.Fatalf("%d dials: a refused password must not be retried", f.count())
		}
	})
	t.Run("no password configured", func(t *testing.T) {
		f := &fake{t: t, greeting: banner + "Password:", steps: []script{{"1*3!", ""}}}
		s := New(f.dial, Options{})
		defer s.Close()
		err := s.Route(context.Background(), "1", "3", "av")
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "none is configured") {
			t.Fatalf("error %v, want ErrAuth", err)
		}
	})
	t.Run("password configured, none asked", func(t *testing.T) {
		f := &fake{t: t, greeting: banner, steps: []script{{"1*3!", "Out03 In01 All\r\n"}}}
		s := New(f.dial, Options{Password: "pw"})
		defer s.Close()
		t0 := time.Now()
		if err := s.Route(context.Background(), "1", "3", "av"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d < greetQuiet || d > greetFirst+time.Second {
			t.Fatalf("took %v, want about %v of quiet", d, greetQuiet)
		}
	})
	t.Run("greeting garbled", func(t *testing.T) {
		f := &fake{t: t, greeting: "\x01\x02junk\r\n"}
		s := New(f.dial, Options{Password: "pw"})
		defer s.Close()
		err := s.Route(context.Background(), "1", "3", "av")
		if !isGarbled(err) || drivers.Code(err) != "device_error" {
			t.Fatalf("error %v, want garbled", err)
		}
	})
}

func TestTranscriptPollBatches(t *testing.T) {
	// Queries go back to back: "I", "N" and "Q" in one write, then the ties 16 at a time.
	video, audio := "", ""
	var vAns, aAns strings.Builder
	for out := 1; out <= 18; out++ {
		video += itoa(out) + "%"
		audio += itoa(out) + "$"
		vAns.WriteString("0" + itoa(out%8) + "\r\n")
		aAns.WriteString("E14\r\n")
	}
	f := &fake{t: t, steps: []script{
		{"INQ", "V8X18 A8X18\r\nQik\r\n60-1234-01\r\n1.23\r\n"},
		{video[:strings.Index(video, "17%")], firstLines(vAns.String(), 16)},
		{"17%18%", restLines(vAns.String(), 16)},
		{audio[:strings.Index(audio, "17$")], firstLines(aAns.String(), 16)},
	}}
	s := New(f.dial, Options{})
	defer s.Close()
	st, err := s.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st["audio"]; ok || st["outputs"] != 18 || st["video"].(map[string]int)["17"] != 1 || st["firmware"] != "1.23" {
		t.Fatalf("Poll = %v", st)
	}
}

func TestTranscriptPollWithoutInformation(t *testing.T) {
	f := &fake{t: t, steps: []script{
		{"INQ", "E10\r\nE10\r\nE10\r\n"},
		{"1%2%", "01\r\nE12\r\n"},
		{"1$2$", "02\r\n00\r\n"},
	}}
	s := New(f.dial, Options{Outputs: 2})
	defer s.Close()
	st, err := s.Poll(context.Background())
	if drivers.Code(err) != "device_error" || !strings.Contains(err.Error(), "video tie of output 2: switcher error E12") {
		t.Fatalf("Poll error %v", err)
	}
	if _, ok := st["inputs"]; ok || st["outputs"] != 2 || st["video"].(map[string]int)["1"] != 1 || len(st["video"].(map[string]int)) != 1 ||
		st["audio"].(map[string]int)["1"] != 2 {
		t.Fatalf("Poll = %v", st)
	}
	// Without the option, a switcher that does not answer I cannot be polled.
	f2 := &fake{t: t, steps: []script{{"INQ", "E10\r\n60-1-1\r\n1.0\r\n"}}}
	s2 := New(f2.dial, Options{})
	defer s2.Close()
	st, err = s2.Poll(context.Background())
	if drivers.Code(err) != "device_error" || !strings.Contains(err.Error(), "set the outputs option") || st["part_number"] != "60-1-1" {
		t.Fatalf("Poll = %v, %v", st, err)
	}
}

func itoa(n int) string { return strings.TrimLeft(string(rune('0'+n/10))+string(rune('0'+n%10)), "0") }

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\r\n")
	return strings.Join(lines[:n], "")
}

func restLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\r\n")
	return strings.Join(lines[n:], "")
}
