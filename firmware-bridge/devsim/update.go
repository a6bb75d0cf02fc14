package devsim

import "github.com/bailiff/bailiff/firmware-bridge/frame"

// Fault is a misbehaviour of the device during a firmware update.
type Fault int

const (
	FaultNone Fault = iota
)

var faultNames = map[Fault]string{}

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
