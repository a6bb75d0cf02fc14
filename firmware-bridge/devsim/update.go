package devsim

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
)

// Fault is a misbehaviour of the device during its next firmware update; each happens once.
type Fault int

const (
	FaultNone Fault = iota
	// FaultRebootMidTransfer: half way through the image the device reboots (the bytes it
	// holds are kept, as in flash); the host must resume from the offset it reports.
	FaultRebootMidTransfer
	// FaultCorruptChunk: a chunk is stored with a flipped bit (a flash fault the frame CRC
	// cannot see); the image's hash fails at verify and the running firmware stays.
	FaultCorruptChunk
	// FaultPowerLossBeforeConfirm: the device loses power after booting the new image and
	// before its confirm; at the next boot it rolls back to the previous image by itself.
	FaultPowerLossBeforeConfirm
	// FaultSelfTest: the new image fails its self-test; the device rolls back.
	FaultSelfTest
)

var faultNames = map[Fault]string{
	FaultRebootMidTransfer:      "reboot-mid-transfer",
	FaultCorruptChunk:           "corrupt-chunk",
	FaultPowerLossBeforeConfirm: "power-loss-before-confirm",
	FaultSelfTest:               "self-test-fails",
}

// updater is the device's update state, guarded by Sim.mu.
type updater struct {
	flags     uint8 // hello flags: pending, rolled back
	phase     frame.Phase
	m         ota.Manifest
	force     bool
	image     []byte // the bytes held of the new image (its flash slot)
	previous  frame.Version
	timer     *time.Timer // rolls a pending image back
	gen       int         // boots since the update started, to stop a stale timer
	powerLoss bool        // lose power at the confirm (FaultPowerLossBeforeConfirm)
	suspended bool        // image holds the bytes of an update a reboot interrupted
}

// SetFault makes the device misbehave in its next update.
func (s *Sim) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// Firmware returns the version of the firmware the device runs.
func (s *Sim) Firmware() frame.Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Version
}

// Pending reports whether the device runs an image not yet confirmed.
func (s *Sim) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upd.flags&frame.HelloPending != 0
}

func (s *Sim) status(reason frame.Reason) *frame.UpdateStatus {
	u := &s.upd
	return &frame.UpdateStatus{Phase: u.phase, Reason: reason, Offset: uint32(len(u.image)), Version: u.m.Version}
}

// update answers an update message (protocol §3.6).
func (s *Sim) update(m frame.Message) []frame.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &s.upd
	fail := func(r frame.Reason) []frame.Message {
		u.phase, u.image = frame.PhaseFailed, nil
		return []frame.Message{s.status(r)}
	}
	switch m := m.(type) {
	case *frame.UpdateBegin:
		man := ota.FromBegin(m)
		same := bytes.Equal(man.SignedBytes(), u.m.SignedBytes()) && bytes.Equal(man.Signature, u.m.Signature)
		if u.phase == frame.PhaseIdle && u.suspended && same {
			// The device rebooted during the transfer; what it wrote to flash is still there.
			u.phase, u.suspended = frame.PhaseReceiving, false
			return []frame.Message{s.status(frame.ReasonNone)}
		}
		if u.phase == frame.PhaseReceiving || u.phase == frame.PhaseVerified {
			if same {
				return []frame.Message{s.status(frame.ReasonNone)} // resume
			}
			return []frame.Message{&frame.UpdateStatus{Phase: frame.PhaseFailed, Reason: frame.ReasonBusy, Offset: uint32(len(u.image)), Version: u.m.Version}}
		}
		if u.flags&frame.HelloPending != 0 {
			return []frame.Message{&frame.UpdateStatus{Phase: frame.PhaseFailed, Reason: frame.ReasonBusy, Version: man.Version}}
		}
		u.m, u.force, u.suspended = man, m.Flags&frame.UpdateForce != 0, false
		if m.Size > s.cfg.SlotSize {
			return fail(frame.ReasonTooLarge)
		}
		if err := man.Accept(s.cfg.DeviceType, s.cfg.Version, u.force, s.cfg.TrustedKeys...); err != nil {
			s.log.Debug("devsim: update refused", "error", err)
			return fail(ota.Reason(err))
		}
		u.phase, u.image = frame.PhaseReceiving, make([]byte, 0, m.Size)
		return []frame.Message{s.status(frame.ReasonNone)}
	case *frame.UpdateChunk:
		if u.phase != frame.PhaseReceiving {
			return []frame.Message{&frame.UpdateChunkAck{Next: uint32(len(u.image)), Status: frame.ChunkNoSession}}
		}
		next := uint32(len(u.image))
		if m.Offset != next || next+uint32(len(m.Data)) > u.m.Size {
			return []frame.Message{&frame.UpdateChunkAck{Next: next, Status: frame.ChunkResend}}
		}
		data := m.Data
		if s.fault == FaultCorruptChunk {
			s.fault = FaultNone
			data = bytes.Clone(data)
			data[len(data)/2] ^= 0x10
		}
		u.image = append(u.image, data...)
		ack := &frame.UpdateChunkAck{Next: uint32(len(u.image)), Status: frame.ChunkOK}
		if s.fault == FaultRebootMidTransfer && len(u.image) >= int(u.m.Size)/2 {
			// The ack is lost with the reboot; the session (in RAM) goes, the bytes (in
			// flash) stay for a begin with the same manifest.
			s.fault = FaultNone
			u.phase, u.suspended = frame.PhaseIdle, true
			go s.rebootLater()
			return nil
		}
		return []frame.Message{ack}
	case *frame.UpdateVerify:
		if u.phase != frame.PhaseReceiving && u.phase != frame.PhaseVerified {
			return []frame.Message{s.status(frame.ReasonNone)}
		}
		if err := u.m.CheckImage(u.image); err != nil {
			return fail(ota.Reason(err))
		}
		if err := u.m.Verify(s.cfg.TrustedKeys...); err != nil {
			return fail(ota.Reason(err))
		}
		u.phase = frame.PhaseVerified
		return []frame.Message{s.status(frame.ReasonNone)}
	case *frame.UpdateReboot:
		if u.phase != frame.PhaseVerified {
			return []frame.Message{s.status(frame.ReasonNone)}
		}
		st := s.status(frame.ReasonNone)
		// Boot the new image as pending.
		u.previous = s.cfg.Version
		s.cfg.Version = u.m.Version
		u.phase, u.flags = frame.PhasePending, frame.HelloPending
		u.gen++
		gen := u.gen
		if u.timer != nil {
			u.timer.Stop()
		}
		u.timer = time.AfterFunc(s.cfg.ConfirmTimeout, func() { s.rollBack(gen, frame.ReasonTimeout) })
		if s.fault == FaultPowerLossBeforeConfirm {
			s.fault, u.powerLoss = FaultNone, true
		}
		go s.rebootLater()
		return []frame.Message{st}
	case *frame.UpdateConfirm:
		if u.flags&frame.HelloPending == 0 {
			return []frame.Message{s.status(frame.ReasonNone)}
		}
		if u.powerLoss {
			// Power goes as the confirm arrives: the next boot finds the image unconfirmed
			// and goes back to the previous one.
			u.powerLoss = false
			go s.rollBack(u.gen, frame.ReasonTimeout)
			return nil
		}
		if u.timer != nil {
			u.timer.Stop()
		}
		if s.fault == FaultSelfTest {
			s.fault = FaultNone
			s.rollBackLocked(frame.ReasonSelfTest)
			go s.rebootLater()
			return []frame.Message{s.status(frame.ReasonSelfTest)}
		}
		u.flags, u.phase, u.image = 0, frame.PhaseConfirmed, nil
		return []frame.Message{s.status(frame.ReasonNone)}
	case *frame.UpdateAbort:
		if u.flags&frame.HelloPending != 0 {
			return []frame.Message{s.status(frame.ReasonBusy)}
		}
		u.phase, u.image = frame.PhaseIdle, nil
		return []frame.Message{s.status(frame.ReasonAborted)}
	}
	return nil
}

// rollBack goes back to the previous image if the update of generation gen is still pending.
func (s *Sim) rollBack(gen int, reason frame.Reason) {
	s.mu.Lock()
	if s.upd.gen != gen || s.upd.flags&frame.HelloPending == 0 {
		s.mu.Unlock()
		return
	}
	s.rollBackLocked(reason)
	st := s.status(reason)
	s.mu.Unlock()
	s.rebootLater()
	s.send(st)
}

func (s *Sim) rollBackLocked(reason frame.Reason) {
	u := &s.upd
	s.log.Debug("devsim: rolling back", "to", u.previous.String(), "reason", ota.ReasonText(reason))
	s.cfg.Version = u.previous
	u.flags, u.phase, u.image = frame.HelloRolledBack, frame.PhaseRolledBack, nil
}

// rebootLater reboots the device after a moment (the time its bootloader takes).
func (s *Sim) rebootLater() {
	time.Sleep(20 * time.Millisecond)
	if err := s.Reboot(); err != nil {
		s.log.Debug("devsim: reboot", "error", err)
	}
}

// pacedLine lets bytes through no faster than a UART at the configured rate: each byte read
// or written moves the line's clock on by byteTime, and the call returns when the clock says
// the bytes have crossed the line.
type pacedLine struct {
	rw       io.ReadWriter
	byteTime time.Duration

	mu         sync.Mutex
	rxAt, txAt time.Time
}

func pace(mu *sync.Mutex, at *time.Time, n int, byteTime time.Duration) {
	mu.Lock()
	now := time.Now()
	if at.Before(now) {
		*at = now
	}
	*at = at.Add(time.Duration(n) * byteTime)
	until := *at
	mu.Unlock()
	time.Sleep(time.Until(until))
}

func (p *pacedLine) Read(b []byte) (int, error) {
	n, err := p.rw.Read(b)
	if n > 0 {
		pace(&p.mu, &p.rxAt, n, p.byteTime)
	}
	return n, err
}

func (p *pacedLine) Write(b []byte) (int, error) {
	pace(&p.mu, &p.txAt, len(b), p.byteTime)
	return p.rw.Write(b)
}
