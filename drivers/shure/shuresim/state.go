package shuresim

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	gainZero = 1100 // AUDIO_GAIN_HI_RES of 0 dB
	gainMax  = 1400
	repErr   = "< REP ERR >"
	fwVer    = "4.7.13"
)

func rep(fields ...string) string { return "< REP " + strings.Join(fields, " ") + " >" }

func onOff(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

// pad puts a text value in braces, padded with spaces to n characters.
func pad(s string, n int) string {
	if len(s) < n {
		s += strings.Repeat(" ", n-len(s))
	}
	return "{" + s + "}"
}

// index writes channel ch as the model does: "3" on an MXA, "03" on a P300.
func (s *Sim) index(ch int) string {
	if s.wide {
		return fmt.Sprintf("%02d", ch)
	}
	return strconv.Itoa(ch)
}

// The reports of each parameter. s.mu is held.
func (s *Sim) repDeviceMute() string { return rep("DEVICE_AUDIO_MUTE", onOff(s.deviceMute)) }
func (s *Sim) repMute(ch int) string {
	return rep(s.index(ch), "AUDIO_MUTE", onOff(s.mute[ch-1]))
}
func (s *Sim) repGain(ch int) string {
	return rep(s.index(ch), "AUDIO_GAIN_HI_RES", fmt.Sprintf("%04d", s.gain[ch-1]))
}
func (s *Sim) repPreset() string { return rep("PRESET", fmt.Sprintf("%02d", s.preset)) }

// sample returns the next meter sample, "< SAMPLE aaa bbb … >", or "" while silent.
func (s *Sim) sample() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Mode() == Silent {
		return ""
	}
	s.tick++
	var b strings.Builder
	b.WriteString("< SAMPLE")
	for i := range s.cfg.Channels {
		l := 20 + (i*7+s.tick*3)%31
		if i < len(s.levels) {
			l = max(0, min(60, s.levels[i]))
		}
		fmt.Fprintf(&b, " %03d", l)
	}
	b.WriteString(" >")
	return b.String()
}

// channels parses a channel index: 1 or 2 digits; all reports whether it is 0 (all channels).
func (s *Sim) channels(f string) (chs []int, ok bool) {
	if len(f) == 0 || len(f) > 2 {
		return nil, false
	}
	n, err := strconv.Atoi(f)
	if err != nil || n < 0 || f[0] == '+' || f[0] == '-' {
		return nil, false
	}
	if n == 0 {
		for i := 1; i <= s.cfg.Channels; i++ {
			chs = append(chs, i)
		}
		return chs, true
	}
	if n > s.cfg.Channels {
		return nil, false
	}
	return []int{n}, true
}

// number parses 1-digits decimal digits.
func number(f string, digits int) (int, bool) {
	if f == "" || len(f) > digits {
		return 0, false
	}
	for i := 0; i < len(f); i++ {
		if f[i] < '0' || f[i] > '9' {
			return 0, false
		}
	}
	n, _ := strconv.Atoi(f)
	return n, true
}

// handle answers the command string body (what is inside "<" and ">") of session ss. reply
// goes to ss; others to every other connection (the reports of a change).
func (s *Sim) handle(ss *session, body string) (reply, others []string) {
	f := strings.Fields(body)
	if len(f) == 0 {
		return []string{repErr}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f[0] {
	case "GET":
		out := s.get(f[1:])
		if out == nil {
			return []string{repErr}, nil
		}
		return out, nil
	case "SET":
		if len(f) == 3 && f[1] == "METER_RATE" {
			n, ok := number(f[2], 5)
			if !ok || (n != 0 && n < 100) {
				return []string{repErr}, nil
			}
			ss.rate.Store(int64(n))
			select {
			case ss.wake <- struct{}{}:
			default:
			}
			return []string{rep("METER_RATE", fmt.Sprintf("%05d", n))}, nil
		}
		out := s.set(f[1:])
		if out == nil {
			return []string{repErr}, nil
		}
		return out, out
	}
	return []string{repErr}, nil
}

// get answers a GET; nil for REP ERR. s.mu is held.
func (s *Sim) get(f []string) []string {
	switch len(f) {
	case 1:
		switch f[0] {
		case "ALL":
			return s.all()
		case "DEVICE_AUDIO_MUTE":
			return []string{s.repDeviceMute()}
		case "PRESET":
			return []string{s.repPreset()}
		case "MODEL":
			return []string{rep("MODEL", pad(s.cfg.Model, 32))}
		case "FW_VER":
			return []string{rep("FW_VER", pad(fwVer, 18))}
		case "FLASH":
			return []string{rep("FLASH", onOff(s.flash))}
		}
	case 2:
		chs, ok := s.channels(f[0])
		if !ok {
			return nil
		}
		var out []string
		for _, ch := range chs {
			switch f[1] {
			case "ALL":
				return s.all()
			case "AUDIO_MUTE":
				out = append(out, s.repMute(ch))
			case "AUDIO_GAIN_HI_RES":
				out = append(out, s.repGain(ch))
			default:
				return nil
			}
		}
		return out
	}
	return nil
}

// all answers "< GET 0 ALL >": every parameter. s.mu is held.
func (s *Sim) all() []string {
	out := []string{
		rep("MODEL", pad(s.cfg.Model, 32)), rep("FW_VER", pad(fwVer, 18)),
		s.repDeviceMute(), s.repPreset(), rep("FLASH", onOff(s.flash)),
	}
	for ch := 1; ch <= s.cfg.Channels; ch++ {
		out = append(out, s.repMute(ch), s.repGain(ch))
	}
	return out
}

// set carries out a SET and returns the reports of the change; nil for REP ERR. s.mu is held.
func (s *Sim) set(f []string) []string {
	onoff := func(v string, old bool) (bool, bool) {
		switch v {
		case "ON":
			return true, true
		case "OFF":
			return false, true
		case "TOGGLE":
			return !old, true
		}
		return false, false
	}
	switch {
	case len(f) == 2 && f[0] == "DEVICE_AUDIO_MUTE":
		on, ok := onoff(f[1], s.deviceMute)
		if !ok {
			return nil
		}
		s.deviceMute = on
		return []string{s.repDeviceMute()}
	case len(f) == 2 && f[0] == "PRESET":
		n, ok := number(f[1], 2)
		if !ok || n < 1 || n > 10 {
			return nil
		}
		s.preset = n
		return []string{s.repPreset()}
	case len(f) == 2 && f[0] == "FLASH":
		on, ok := onoff(f[1], s.flash)
		if !ok {
			return nil
		}
		s.flash = on
		return []string{rep("FLASH", onOff(on))}
	case len(f) >= 3 && f[1] == "AUDIO_MUTE":
		chs, ok := s.channels(f[0])
		if !ok || len(f) != 3 {
			return nil
		}
		var out []string
		for _, ch := range chs {
			on, ok := onoff(f[2], s.mute[ch-1])
			if !ok {
				return nil
			}
			s.mute[ch-1] = on
			out = append(out, s.repMute(ch))
		}
		return out
	case len(f) >= 3 && f[1] == "AUDIO_GAIN_HI_RES":
		chs, ok := s.channels(f[0])
		if !ok || len(chs) != 1 {
			return nil
		}
		ch := chs[0]
		v := s.gain[ch-1]
		switch {
		case len(f) == 3:
			n, ok := number(f[2], 4)
			if !ok || len(f[2]) != 4 {
				return nil
			}
			v = n
		case len(f) == 4 && (f[2] == "INC" || f[2] == "DEC"):
			n, ok := number(f[3], 3)
			if !ok {
				return nil
			}
			if f[2] == "DEC" {
				n = -n
			}
			v += n
		default:
			return nil
		}
		if v < 0 || v > gainMax {
			return nil
		}
		s.gain[ch-1] = v
		return []string{s.repGain(ch)}
	}
	return nil
}
