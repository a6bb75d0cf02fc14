package scenes

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

// fakeDevices answers commands: a device named in fail acks an error, one in slow waits for
// the step's timeout, the rest ack ok after delay.
type fakeDevices struct {
	mu    sync.Mutex
	log   []string
	fail  map[string]bool
	slow  map[string]bool
	delay time.Duration
	now   int // commands in flight
	peak  int
}

func (f *fakeDevices) SendWithin(ctx context.Context, timeout time.Duration, site, room, device, action string, args json.RawMessage, by string) (wire.Ack, error) {
	f.mu.Lock()
	f.log = append(f.log, device+":"+action+string(args))
	f.now++
	f.peak = max(f.peak, f.now)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.now--; f.mu.Unlock() }()
	if f.slow[device] {
		time.Sleep(timeout)
		return wire.Ack{}, wire.Errorf(wire.CodeTimeout, "no answer within %s", timeout)
	}
	time.Sleep(f.delay)
	if f.fail[device] {
		return wire.Ack{ID: "x", Error: wire.Errorf(wire.CodeDeviceError, "lamp failure")}, nil
	}
	return wire.Ack{ID: "x", OK: true, State: map[string]any{"by": by}}, nil
}

type fakeHub struct {
	mu   sync.Mutex
	done []string
	err  error
}

func (h *fakeHub) Do(_ context.Context, site, room, action, by string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = append(h.done, action)
	return "did " + action, h.err
}

const room = `site: s
room: r
kind: tech-courtroom
name: R
devices:
  - {id: a, driver: pjlink, address: 10.0.0.1}
  - {id: b, driver: pjlink, address: 10.0.0.2}
  - {id: c, driver: pjlink, address: 10.0.0.3}
scenes:
  - name: go
    steps:
      - parallel:
          - {device: a, action: power, args: {on: true}}
          - {device: b, action: power, args: {on: true}}
          - {device: c, action: power, args: {on: true}, on_error: continue}
      - hub: start-recording
      - {device: a, action: input, args: {source: "31"}, timeout: 200ms}
  - name: lenient
    on_error: continue
    steps:
      - {device: a, action: refresh, timeout: 150ms}
      - {device: b, action: refresh}
`

func newRunner(t *testing.T, f *fakeDevices, h *fakeHub) (*Runner, *[]Run) {
	r, err := config.ParseRoom("r.yaml", []byte(room))
	if err != nil {
		t.Fatal(err)
	}
	var reports []Run
	var mu sync.Mutex
	return &Runner{Commands: f, Hub: h, Timeout: time.Second,
		Room:   func(site, rm string) (*config.Room, bool) { return r, site == "s" && rm == "r" },
		Report: func(run Run) { mu.Lock(); reports = append(reports, run); mu.Unlock() },
	}, &reports
}

func ats(run Run) string {
	var b []string
	for _, s := range run.Steps {
		mark := "ok"
		switch {
		case s.Skipped:
			mark = "skipped"
		case !s.OK:
			mark = s.Error.Code
		}
		b = append(b, s.At+"="+mark)
	}
	return strings.Join(b, " ")
}

func TestRunAllOK(t *testing.T) {
	f := &fakeDevices{delay: 50 * time.Millisecond}
	h := &fakeHub{}
	rn, reports := newRunner(t, f, h)
	run, err := rn.Run(context.Background(), "s", "r", "go", "judge")
	if err != nil {
		t.Fatal(err)
	}
	if !run.OK || run.Aborted {
		t.Fatalf("run = %+v", run)
	}
	want := "steps[0].parallel[0]=ok steps[0].parallel[1]=ok steps[0].parallel[2]=ok steps[1]=ok steps[2]=ok"
	if got := ats(run); got != want {
		t.Errorf("steps %s\nwant  %s", got, want)
	}
	if f.peak != 3 {
		t.Errorf("at most %d commands ran at once; the group has 3", f.peak)
	}
	if f.log[3] != `a:input{"source":"31"}` || len(f.log) != 4 {
		t.Errorf("commands %v", f.log)
	}
	if run.Steps[0].MS < 40 || run.Steps[3].MS > 40 {
		t.Errorf("step times %d ms (a 50 ms command), %d ms (a hub step)", run.Steps[0].MS, run.Steps[3].MS)
	}
	if run.Steps[0].State["by"] != "judge" || run.Steps[3].Detail != "did start-recording" {
		t.Errorf("results %+v", run.Steps)
	}
	if len(*reports) != 1 || (*reports)[0].Scene != "go" {
		t.Errorf("reports %+v", *reports)
	}
}

func TestRunAbortAndContinue(t *testing.T) {
	// c fails but may continue; then b fails and aborts: the hub step and the last are skipped.
	f := &fakeDevices{fail: map[string]bool{"c": true}}
	rn, _ := newRunner(t, f, &fakeHub{})
	run, _ := rn.Run(context.Background(), "s", "r", "go", "judge")
	if run.OK || run.Aborted || ats(run) != "steps[0].parallel[0]=ok steps[0].parallel[1]=ok steps[0].parallel[2]=device_error steps[1]=ok steps[2]=ok" {
		t.Errorf("c fails: %s (ok %v aborted %v)", ats(run), run.OK, run.Aborted)
	}
	f = &fakeDevices{fail: map[string]bool{"b": true}}
	h := &fakeHub{}
	rn, _ = newRunner(t, f, h)
	run, _ = rn.Run(context.Background(), "s", "r", "go", "judge")
	if run.OK || !run.Aborted || ats(run) != "steps[0].parallel[0]=ok steps[0].parallel[1]=device_error steps[0].parallel[2]=ok steps[1]=skipped steps[2]=skipped" {
		t.Errorf("b fails: %s (ok %v aborted %v)", ats(run), run.OK, run.Aborted)
	}
	if len(h.done) != 0 || len(run.Failed()) != 1 {
		t.Errorf("hub actions after an abort: %v; failed %+v", h.done, run.Failed())
	}
	// A hub action that fails aborts too.
	rn, _ = newRunner(t, &fakeDevices{}, &fakeHub{err: errors.New("disk full")})
	run, _ = rn.Run(context.Background(), "s", "r", "go", "judge")
	if !run.Aborted || run.Steps[3].Error.Code != wire.CodeDeviceError || !strings.Contains(run.Steps[3].Error.Message, "disk full") {
		t.Errorf("hub failure: %s %+v", ats(run), run.Steps[3])
	}
}

func TestRunStepTimeout(t *testing.T) {
	f := &fakeDevices{slow: map[string]bool{"a": true}}
	rn, _ := newRunner(t, f, &fakeHub{})
	start := time.Now()
	run, _ := rn.Run(context.Background(), "s", "r", "lenient", "clerk")
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("took %s: the step's 150ms timeout was not used", d)
	}
	if ats(run) != "steps[0]=timeout steps[1]=ok" || run.OK {
		t.Errorf("%s", ats(run))
	}
}

func TestRunErrors(t *testing.T) {
	f := &fakeDevices{delay: 300 * time.Millisecond}
	rn, _ := newRunner(t, f, &fakeHub{})
	if _, err := rn.Run(context.Background(), "s", "nowhere", "go", "x"); !errors.Is(err, ErrNoRoom) {
		t.Errorf("no room: %v", err)
	}
	if _, err := rn.Run(context.Background(), "s", "r", "dance", "x"); !errors.Is(err, ErrNoScene) {
		t.Errorf("no scene: %v", err)
	}
	done := make(chan struct{})
	go func() { rn.Run(context.Background(), "s", "r", "go", "x"); close(done) }()
	time.Sleep(100 * time.Millisecond)
	if _, err := rn.Run(context.Background(), "s", "r", "lenient", "x"); !errors.Is(err, ErrBusy) {
		t.Errorf("second scene while one runs: %v", err)
	}
	<-done
	if _, err := rn.Run(context.Background(), "s", "r", "lenient", "x"); err != nil {
		t.Errorf("after the first ended: %v", err)
	}
	// An offline room fails its device steps at once.
	rn.Online = func(string, string) bool { return false }
	run, _ := rn.Run(context.Background(), "s", "r", "lenient", "x")
	if ats(run) != "steps[0]=unreachable steps[1]=unreachable" {
		t.Errorf("offline: %s", ats(run))
	}
}
