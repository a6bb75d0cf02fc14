package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
)

// Steps of an update as Progress reports them.
const (
	StepDownloading = "downloading" // image bytes going to the device; Percent says how far
	StepVerifying   = "verifying"
	StepRebooting   = "rebooting"
	StepConfirmed   = "confirmed"
	StepRolledBack  = "rolled_back"
	StepFailed      = "failed"
)

// Progress is one step of an update.
type Progress struct {
	Step    string `json:"step"`
	Percent int    `json:"percent"`
	Offset  uint32 `json:"offset"`
	Reason  string `json:"reason,omitempty"`
	Resumed bool   `json:"resumed,omitempty"` // the transfer went on from what the device held
}

// UpdateError is an update that ended without the new image confirmed; the device runs its
// previous firmware. Reason is the device's (frame.ReasonNone when the host gave up).
type UpdateError struct {
	Step   string // StepFailed or StepRolledBack
	Reason frame.Reason
	Err    error
}

func (e *UpdateError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("bridge: update %s: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("bridge: update %s: %s", e.Step, ota.ReasonText(e.Reason))
}

func (e *UpdateError) Unwrap() error { return e.Err }

// Update sends image, described by m, to the device and takes it through verify, reboot and
// confirm (protocol §3.6), resuming from the device's offset after a lost chunk, a reboot of
// the device or the port going away for a moment. progress (optional) is called at every step.
// A nil error means the device runs the new image, confirmed.
func (b *Bridge) Update(ctx context.Context, m ota.Manifest, image []byte, force bool, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}
	if err := m.CheckImage(image); err != nil {
		return &UpdateError{Step: StepFailed, Err: err}
	}
	b.mu.Lock()
	if b.upd != nil {
		b.mu.Unlock()
		return &UpdateError{Step: StepFailed, Reason: frame.ReasonBusy, Err: errors.New("an update is already running on this line")}
	}
	b.upd = make(chan frame.Message, 64)
	in := b.upd
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.upd = nil
		b.mu.Unlock()
	}()
	u := &upd{b: b, ctx: ctx, in: in, m: m, image: image, force: force, progress: progress}
	err := u.run()
	if err != nil {
		var ue *UpdateError
		if !errors.As(err, &ue) {
			err = &UpdateError{Step: StepFailed, Err: err}
		}
		errors.As(err, &ue)
		progress(Progress{Step: ue.Step, Reason: reasonOf(ue)})
	}
	return err
}

func reasonOf(e *UpdateError) string {
	if e.Reason != frame.ReasonNone {
		return ota.ReasonText(e.Reason)
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

type upd struct {
	b        *Bridge
	ctx      context.Context
	in       chan frame.Message
	m        ota.Manifest
	image    []byte
	force    bool
	progress func(Progress)
	chunk    int
}

// stepTimeout bounds each wait for the device's answer.
func (u *upd) stepTimeout() time.Duration { return 4 * u.b.cfg.AckTimeout }

func (u *upd) run() error {
	if err := u.waitUp(); err != nil {
		return err
	}
	h, _, _ := u.b.Info()
	if h.Caps&frame.CapUpdate == 0 {
		return &UpdateError{Step: StepFailed, Err: fmt.Errorf("the %s does not take firmware updates", h.DeviceType)}
	}
	u.chunk = min(frame.MaxChunk, int(h.MaxFrame)-7)
	// Begin, transfer and verify again from where the device is after the line went away or
	// the device restarted: a begin with the same manifest resumes (or finds it all there).
	for attempt := 0; ; attempt++ {
		hello := u.b.helloSignal()
		err := u.transfer(attempt > 0)
		if err == nil {
			u.progress(Progress{Step: StepVerifying, Percent: 100, Offset: u.m.Size})
			_, err = u.ask(&frame.UpdateVerify{}, true, frame.PhaseVerified)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, errRestart) || attempt >= 20 {
			return err
		}
		if errors.Is(err, errNoSession) {
			continue // the device lost the update but is there: begin again at once
		}
		// The device restarted (its hello came) or the line went away (its hello comes when
		// the port is open again): go on after that hello.
		if err := u.waitHello(hello, 10*u.stepTimeout()); err != nil {
			return err
		}
		if err := u.waitUp(); err != nil {
			return err
		}
	}
	u.progress(Progress{Step: StepRebooting, Percent: 100, Offset: u.m.Size})
	hello := u.b.helloSignal()
	if _, err := u.ask(&frame.UpdateReboot{}, false, frame.PhaseVerified); err != nil {
		return err
	}
	if err := u.waitHello(hello, 10*u.stepTimeout()); err != nil {
		return err
	}
	h, _, _ = u.b.Info()
	switch {
	case h.Flags&frame.HelloRolledBack != 0:
		return &UpdateError{Step: StepRolledBack, Reason: frame.ReasonSelfTest}
	case h.Version != u.m.Version || h.Flags&frame.HelloPending == 0:
		return &UpdateError{Step: StepFailed, Err: fmt.Errorf("the device came back with %s, not %s pending", h.Version, u.m.Version)}
	}
	hello = u.b.helloSignal()
	if err := u.b.send(&frame.UpdateConfirm{}); err != nil {
		return err
	}
	t := time.NewTimer(10 * u.stepTimeout())
	defer t.Stop()
	again := time.NewTicker(u.stepTimeout()) // a lost confirm is sent again; the device answers each
	defer again.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return u.ctx.Err()
		case <-t.C:
			return &UpdateError{Step: StepFailed, Err: errors.New("no answer to update-confirm")}
		case <-again.C:
			if err := u.b.send(&frame.UpdateConfirm{}); err != nil {
				u.b.log.Debug("bridge: update-confirm again", "error", err)
			}
		case <-hello:
			// The device rebooted instead of confirming: see what it runs.
			if h, _, _ := u.b.Info(); h != nil && h.Flags&frame.HelloRolledBack != 0 {
				return &UpdateError{Step: StepRolledBack, Reason: u.rollbackReason()}
			}
			hello = u.b.helloSignal()
		case m := <-u.in:
			st, ok := m.(*frame.UpdateStatus)
			if !ok {
				continue
			}
			switch st.Phase {
			case frame.PhaseConfirmed:
				u.progress(Progress{Step: StepConfirmed, Percent: 100, Offset: u.m.Size})
				// Its hello said pending; ask again so the bridge's view follows.
				if err := u.b.send(&frame.HelloRequest{}); err != nil {
					u.b.log.Debug("bridge: hello-request after confirm", "error", err)
				}
				return nil
			case frame.PhaseRolledBack:
				return &UpdateError{Step: StepRolledBack, Reason: st.Reason}
			case frame.PhaseFailed:
				return &UpdateError{Step: StepFailed, Reason: st.Reason}
			}
		}
	}
}

// rollbackReason waits a moment for the update-status a device sends after rolling back by
// itself, and returns its reason (timeout when none comes).
func (u *upd) rollbackReason() frame.Reason {
	t := time.NewTimer(u.stepTimeout())
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return frame.ReasonTimeout
		case <-u.ctx.Done():
			return frame.ReasonTimeout
		case m := <-u.in:
			if st, ok := m.(*frame.UpdateStatus); ok && st.Phase == frame.PhaseRolledBack {
				return st.Reason
			}
		}
	}
}

var (
	errRestart = errors.New("bridge: the device restarted during the transfer")
	// errNoSession: the device answered a chunk with "no update in progress".
	errNoSession = fmt.Errorf("%w: no update in progress at the device", errRestart)
)

// transfer begins (or resumes) the update and sends the image, two chunks in flight.
func (u *upd) transfer(resume bool) error {
	hello := u.b.helloSignal()
	st, err := u.ask(u.m.Begin(uint16(u.chunk), u.force), true, frame.PhaseReceiving, frame.PhaseVerified)
	if err != nil {
		return err
	}
	acked := st.Offset
	if acked > u.m.Size {
		acked = 0
	}
	u.progress(Progress{Step: StepDownloading, Percent: percent(acked, u.m.Size), Offset: acked, Resumed: resume && acked > 0})
	sent := acked
	lastPct := -1
	for acked < u.m.Size {
		for sent < u.m.Size && sent-acked < uint32(2*u.chunk) {
			end := min(sent+uint32(u.chunk), u.m.Size)
			if err := u.b.send(&frame.UpdateChunk{Offset: sent, Data: u.image[sent:end]}); err != nil {
				return fmt.Errorf("%w: %w", errRestart, err)
			}
			sent = end
		}
		t := time.NewTimer(u.stepTimeout())
		select {
		case <-u.ctx.Done():
			t.Stop()
			return u.ctx.Err()
		case <-hello:
			t.Stop()
			return errRestart
		case <-t.C:
			sent = acked // lost: send again from what the device holds
		case m := <-u.in:
			t.Stop()
			a, ok := m.(*frame.UpdateChunkAck)
			if !ok {
				continue
			}
			switch a.Status {
			case frame.ChunkOK:
				if a.Next > acked {
					acked = a.Next
				}
				if sent < acked {
					sent = acked
				}
			case frame.ChunkResend:
				acked, sent = a.Next, a.Next
			case frame.ChunkNoSession:
				return errNoSession
			default:
				return &UpdateError{Step: StepFailed, Reason: frame.ReasonFlashError}
			}
			if p := percent(acked, u.m.Size); p != lastPct {
				lastPct = p
				u.progress(Progress{Step: StepDownloading, Percent: p, Offset: acked})
			}
		}
	}
	return nil
}

func percent(n, of uint32) int { return int(uint64(n) * 100 / uint64(max(of, 1))) }

// ask sends m and waits for an update-status in one of the phases want, or a failure. With
// restartOnHello, a hello meanwhile (the device rebooted) ends it with errRestart.
func (u *upd) ask(m frame.Message, restartOnHello bool, want ...frame.Phase) (*frame.UpdateStatus, error) {
	hello := u.b.helloSignal()
	if !restartOnHello {
		hello = nil
	}
	var other *frame.UpdateStatus
	for attempt := 0; attempt < 3; attempt++ {
		if err := u.b.send(m); err != nil {
			return nil, fmt.Errorf("%w: %w", errRestart, err)
		}
		t := time.NewTimer(u.stepTimeout())
	wait:
		for {
			select {
			case <-u.ctx.Done():
				t.Stop()
				return nil, u.ctx.Err()
			case <-hello:
				t.Stop()
				return nil, errRestart
			case <-t.C:
				break wait
			case x := <-u.in:
				st, ok := x.(*frame.UpdateStatus)
				if !ok {
					continue // a late chunk ack
				}
				switch {
				case slices.Contains(want, st.Phase):
					t.Stop()
					return st, nil
				case st.Phase == frame.PhaseFailed:
					t.Stop()
					return nil, &UpdateError{Step: StepFailed, Reason: st.Reason}
				case st.Phase == frame.PhaseRolledBack:
					t.Stop()
					return nil, &UpdateError{Step: StepRolledBack, Reason: st.Reason}
				}
				// The answer to an earlier request (a begin sent twice across a restart):
				// keep waiting for this one's.
				other = st
			}
		}
	}
	if _, up, _ := u.b.Info(); !up {
		return nil, fmt.Errorf("%w: no answer to %s", errRestart, m.Type())
	}
	if other != nil {
		return nil, &UpdateError{Step: StepFailed, Err: fmt.Errorf("%s answered with phase %d, want %v", m.Type(), other.Phase, want)}
	}
	return nil, &UpdateError{Step: StepFailed, Err: fmt.Errorf("no answer to %s", m.Type())}
}

// waitUp waits until the device is connected (it may be rebooting or replugged).
func (u *upd) waitUp() error {
	deadline := time.Now().Add(10 * u.stepTimeout())
	for {
		if _, up, _ := u.b.Info(); up {
			return nil
		}
		if time.Now().After(deadline) {
			_, _, err := u.b.Info()
			return &UpdateError{Step: StepFailed, Err: err}
		}
		select {
		case <-u.ctx.Done():
			return u.ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (u *upd) waitHello(hello <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-u.ctx.Done():
		return u.ctx.Err()
	case <-t.C:
		return &UpdateError{Step: StepFailed, Err: errors.New("the device did not come back after its reboot")}
	case <-hello:
		return nil
	}
}
