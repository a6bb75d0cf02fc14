// Package simkit is what every device simulator shares: serving a protocol handler over TCP,
// UDP, a new pty pair or an existing serial line, closing it all on Close, and the common
// ways to misbehave.
//
// A simulator embeds a *Server, made by New, and serves its protocol with a Handler that
// reads commands from a *Line and writes answers to it:
//
//	type Sim struct {
//		*simkit.Server // Close, Addr, SetMode, SetDelay, Connections, … come with it
//	}
//
//	func New() *Sim { return &Sim{Server: simkit.New(simkit.Config{Name: "mysim"})} }
//
//	func (s *Sim) Listen(addr string) (string, error) { return s.ListenTCP(addr, s.serve) }
//
//	func (s *Sim) serve(l *simkit.Line) {
//		r := bufio.NewReader(l)
//		for {
//			cmd, err := r.ReadString('\r')
//			if err != nil {
//				return // the Server closes the line
//			}
//			mode, ok := l.Admit() // the misbehaviour for this command; Slow has waited
//			if !ok {
//				return
//			}
//			switch mode {
//			case simkit.Silent:
//				continue
//			case simkit.Drop, simkit.DropOnce:
//				return
//			case simkit.Garbage:
//				l.Send(simkit.RandomBytes(4, 20))
//				continue
//			}
//			l.SendString(answer(cmd))
//		}
//	}
//
// simkit shares nothing with the drivers: it carries bytes and knows no protocol, so a
// simulator and its driver still check each other.
package simkit

import (
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
)

// Mode is how a simulator treats the commands it receives.
type Mode int

const (
	// Normal answers as the device does.
	Normal Mode = iota
	// Slow waits the delay set by SetDelay before handling each command.
	Slow
	// Silent reads commands and neither answers nor acts on them.
	Silent
	// Garbage answers each command with random bytes that are not the protocol.
	Garbage
	// Drop closes the connection on each command, without answering. What it does on a
	// serial line, which cannot be closed from the device's end, each simulator documents.
	Drop
	// DropOnce drops on the next command, then goes back to Normal.
	DropOnce
	// Refuse answers each command with the device's error answer, for simulators whose
	// protocol has one answer for every refusal.
	Refuse
)

var modeNames = [...]string{"normal", "slow", "silent", "garbage", "drop", "drop-once", "refuse"}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MarshalText names the mode, so a simulator's state reads well as JSON.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// ParseMode returns the mode among Normal…last named name (case-insensitive).
func ParseMode(name string, last Mode) (Mode, error) { return simreg.ModeByName(name, Normal, last) }

// SlowDelay is the delay of Slow mode when a simulator is told to misbehave by name (the
// demo, the hardware-in-the-loop harness).
const SlowDelay = 2 * time.Second

// Behaviour is a simulator's misbehaviour switch. The zero value is Normal; its methods are
// safe for concurrent use.
type Behaviour struct {
	mu    sync.Mutex
	mode  Mode
	delay time.Duration
}

// SetMode sets how the simulator answers from the next command on.
func (b *Behaviour) SetMode(m Mode) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mode = m
}

// SetDelay sets the delay of Slow mode.
func (b *Behaviour) SetDelay(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.delay = d
}

// Mode returns the current mode.
func (b *Behaviour) Mode() Mode {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mode
}

// Take returns the mode and Slow delay for one command received; DropOnce goes back to
// Normal as it is taken.
func (b *Behaviour) Take() (Mode, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.mode
	if m == DropOnce {
		b.mode = Normal
	}
	return m, b.delay
}

// SetModeName sets the mode named name among Normal…last, for simreg.Misbehaver: "slow"
// also sets the delay to SlowDelay. It returns the mode set.
func (b *Behaviour) SetModeName(name string, last Mode) (Mode, error) {
	m, err := ParseMode(name, last)
	if err != nil {
		return m, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if m == Slow {
		b.delay = SlowDelay
	}
	b.mode = m
	return m, nil
}

// Wait sleeps d, or until one of stop is closed; false when one was. Nil channels never
// stop it.
func Wait(d time.Duration, stop ...<-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	var a, b <-chan struct{}
	switch len(stop) {
	case 0:
	case 1:
		a = stop[0]
	case 2:
		a, b = stop[0], stop[1]
	default:
		panic("simkit: Wait takes at most two stop channels")
	}
	select {
	case <-t.C:
		return true
	case <-a:
		return false
	case <-b:
		return false
	}
}

// RandomBytes returns between min and max (inclusive) random bytes, for Garbage answers;
// the simulator then makes sure they cannot be taken for its protocol (a bad first byte).
func RandomBytes(min, max int) []byte {
	b := make([]byte, min+RandN(max-min+1))
	rand.Read(b)
	return b
}

// RandN returns a random number in 0…n-1 (n at most 256).
func RandN(n int) int {
	var b [1]byte
	rand.Read(b[:])
	return int(b[0]) % n
}
