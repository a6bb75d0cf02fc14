package shuresim

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/shure/internal/golden"
	"github.com/bailiff/bailiff/drivers/simreg"
)

// client is a raw command-string controller for tests: it checks bytes, not meaning.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func (cl *client) send(s string) {
	cl.t.Helper()
	cl.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(cl.c, s); err != nil {
		cl.t.Fatalf("send %q: %v", s, err)
	}
}

// read returns the next frame with its brackets, skipping samples unless withSamples.
func (cl *client) read(timeout time.Duration, withSamples bool) (string, error) {
	cl.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		body, err := readFrame(cl.r)
		if err != nil {
			return "", err
		}
		if withSamples || !strings.HasPrefix(body, " SAMPLE") {
			return "<" + body + ">", nil
		}
	}
}

// ask sends s and returns the first message answering it.
func (cl *client) ask(s string) string {
	cl.t.Helper()
	cl.send(s)
	a, err := cl.read(2*time.Second, false)
	if err != nil {
		cl.t.Fatalf("answer to %q: %v", s, err)
	}
	return a
}

func start(t *testing.T, cfg Config) (*Sim, string) {
	t.Helper()
	s := New(cfg)
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, addr
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func TestGoldenFrames(t *testing.T) {
	n := 0
	for _, f := range golden.Frames {
		if f.Sim == nil {
			continue
		}
		n++
		t.Run(f.Name, func(t *testing.T) {
			su := f.Sim
			s, addr := start(t, Config{Model: su.Model, Channels: su.Channels, Preset: su.Preset})
			s.SetDeviceMute(su.DeviceMute)
			for ch, on := range su.Mute {
				if err := s.SetMute(ch, on); err != nil {
					t.Fatal(err)
				}
			}
			for ch, v := range su.Gain {
				if err := s.SetGain(ch, v); err != nil {
					t.Fatal(err)
				}
			}
			cl := dial(t, addr)
			if a := cl.ask(f.Request); a != f.Reply {
				t.Fatalf("%q answered %q, want %q", f.Request, a, f.Reply)
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d golden frames run against the simulator", n)
	}
}

func TestChangesReachEveryConnection(t *testing.T) {
	s, addr := start(t, Config{})
	a, b := dial(t, addr), dial(t, addr)
	eventually(t, "two connections", func() bool { return s.OpenConnections() == 2 })
	if got := a.ask("< SET 2 AUDIO_MUTE ON >"); got != "< REP 2 AUDIO_MUTE ON >" {
		t.Fatalf("answer %q", got)
	}
	if got, err := b.read(2*time.Second, false); err != nil || got != "< REP 2 AUDIO_MUTE ON >" {
		t.Fatalf("the other connection got %q, %v", got, err)
	}
	// Someone presses the mute button: both hear of it.
	s.SetDeviceMute(true)
	for _, cl := range []*client{a, b} {
		if got, err := cl.read(2*time.Second, false); err != nil || got != "< REP DEVICE_AUDIO_MUTE ON >" {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	if err := s.SetMute(9, true); err == nil {
		t.Fatal("SetMute of channel 9 of 8 accepted")
	}
	if st := s.State(); !st.DeviceMute || !st.Mute[1] || st.Mute[0] {
		t.Fatalf("state %+v", st)
	}
}

func TestGetAll(t *testing.T) {
	_, addr := start(t, Config{Model: "P300", Channels: 2})
	cl := dial(t, addr)
	cl.send("< GET 00 ALL >")
	var got []string
	for range 9 {
		m, err := cl.read(2*time.Second, false)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	want := []string{"< REP MODEL " + golden.Model("P300") + " >", "< REP FW_VER {4.7.13            } >",
		"< REP DEVICE_AUDIO_MUTE OFF >", "< REP PRESET 01 >", "< REP FLASH OFF >",
		"< REP 01 AUDIO_MUTE OFF >", "< REP 01 AUDIO_GAIN_HI_RES 1100 >", "< REP 02 AUDIO_MUTE OFF >", "< REP 02 AUDIO_GAIN_HI_RES 1100 >"}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Fatalf("GET ALL =\n%q\nwant\n%q", got, want)
	}
}

func TestGainStepsAndToggle(t *testing.T) {
	_, addr := start(t, Config{})
	cl := dial(t, addr)
	for _, c := range []struct{ send, want string }{
		{"< SET 1 AUDIO_GAIN_HI_RES INC 15 >", "< REP 1 AUDIO_GAIN_HI_RES 1115 >"},
		{"< SET 1 AUDIO_GAIN_HI_RES DEC 115 >", "< REP 1 AUDIO_GAIN_HI_RES 1000 >"},
		{"< SET 1 AUDIO_GAIN_HI_RES DEC 1001 >", "< REP ERR >"},
		{"< SET 1 AUDIO_MUTE TOGGLE >", "< REP 1 AUDIO_MUTE ON >"},
		{"< SET DEVICE_AUDIO_MUTE TOGGLE >", "< REP DEVICE_AUDIO_MUTE ON >"},
		{"< SET 0 AUDIO_GAIN_HI_RES 1100 >", "< REP ERR >"},
		{"< SET 1 AUDIO_MUTE MAYBE >", "< REP ERR >"},
		{"garbage between < SET PRESET 2 > frames", "< REP PRESET 02 >"},
		{"< >", "< REP ERR >"},
		{"< GET FW_VER >", "< REP FW_VER {4.7.13            } >"},
	} {
		if got := cl.ask(c.send); got != c.want {
			t.Errorf("%q answered %q, want %q", c.send, got, c.want)
		}
	}
}

func TestMetering(t *testing.T) {
	s, addr := start(t, Config{Channels: 3, Levels: []int{60, 30, 0}})
	cl := dial(t, addr)
	if got := cl.ask("< SET METER_RATE 100 >"); got != "< REP METER_RATE 00100 >" {
		t.Fatalf("answer %q", got)
	}
	t0 := time.Now()
	for range 5 {
		m, err := cl.read(2*time.Second, true)
		if err != nil || m != "< SAMPLE 060 030 000 >" {
			t.Fatalf("sample %q, %v", m, err)
		}
	}
	if d := time.Since(t0); d < 400*time.Millisecond || d > 2*time.Second {
		t.Fatalf("5 samples at 100 ms took %v", d)
	}
	// Another connection has metering off.
	other := dial(t, addr)
	if _, err := other.read(300*time.Millisecond, true); !isTimeout(err) {
		t.Fatalf("a connection that asked for nothing got samples: %v", err)
	}
	if got := cl.ask("< SET METER_RATE 0 >"); got != "< REP METER_RATE 00000 >" {
		t.Fatalf("answer %q", got)
	}
	n := s.Samples()
	time.Sleep(250 * time.Millisecond)
	if s.Samples() > n+1 {
		t.Fatalf("samples went on after METER_RATE 0")
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

func TestModes(t *testing.T) {
	s, addr := start(t, Config{})
	cl := dial(t, addr)

	s.SetMode(Refuse)
	if got := cl.ask("< GET PRESET >"); got != "< REP ERR >" {
		t.Fatalf("refuse: %q", got)
	}
	s.SetMode(Garbage)
	cl.send("< GET PRESET >")
	cl.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if b, err := cl.r.ReadByte(); err != nil || b == '<' || b == ' ' {
		t.Fatalf("garbage starts with %q, %v", b, err)
	}
	s.SetMode(Silent)
	cl2 := dial(t, addr)
	cl2.send("< GET PRESET >")
	if _, err := cl2.read(200*time.Millisecond, true); !isTimeout(err) {
		t.Fatalf("silent: %v", err)
	}
	s.SetMode(Slow)
	s.SetDelay(150 * time.Millisecond)
	t0 := time.Now()
	if got := cl2.ask("< GET PRESET >"); got != "< REP PRESET 01 >" || time.Since(t0) < 150*time.Millisecond {
		t.Fatalf("slow: %q after %v", got, time.Since(t0))
	}
	s.SetMode(DropOnce)
	cl2.send("< GET PRESET >")
	if _, err := cl2.read(2*time.Second, true); err == nil || isTimeout(err) {
		t.Fatalf("drop once: %v", err)
	}
	if s.State().Mode != Normal {
		t.Fatal("drop once did not go back to normal")
	}
	s.SetMode(Drop)
	cl3 := dial(t, addr)
	cl3.send("< GET PRESET >")
	if _, err := cl3.read(2*time.Second, true); err == nil || isTimeout(err) {
		t.Fatalf("drop: %v", err)
	}
	for m := Normal; m <= Refuse; m++ {
		if strings.HasPrefix(m.String(), "Mode(") {
			t.Errorf("mode %d has no name", m)
		}
	}
}

func TestCloseEndsEverything(t *testing.T) {
	s := New(Config{})
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := dial(t, addr)
	cl.ask("< SET METER_RATE 100 >")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.read(2*time.Second, true); err == nil || isTimeout(err) {
		t.Fatalf("after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen("127.0.0.1:0"); err == nil {
		t.Fatal("Listen after Close")
	}
}

func TestRegistered(t *testing.T) {
	sim, err := simreg.Start("shure", simreg.Options{ID: "mic", Options: map[string]string{"model": "p300", "channels": "12"}, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cl := dial(t, sim.Address())
	if got := cl.ask("< GET 12 AUDIO_MUTE >"); got != "< REP 12 AUDIO_MUTE OFF >" {
		t.Fatalf("answer %q", got)
	}
	if _, err := simreg.Start("shure", simreg.Options{Transport: "serial"}); err == nil {
		t.Fatal("serial accepted")
	}
	if _, err := simreg.Start("shure", simreg.Options{Options: map[string]string{"channels": "10"}}); err == nil {
		t.Fatal("10 channels on an MXA accepted")
	}
}
