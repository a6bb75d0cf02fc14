package pjlinksim

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

func digest(random, password string) string {
	sum := md5.Sum([]byte(random + password))
	return hex.EncodeToString(sum[:])
}

// validInput reports whether s is a class 1 input code: type 1-5, number 1-9 (spec §4.3).
func validInput(s string) bool {
	return len(s) == 2 && s[0] >= '1' && s[0] <= '5' && s[1] >= '1' && s[1] <= '9'
}

// advance completes a warm-up or cool-down whose time has come. s.mu is held.
func (s *Sim) advance(now time.Time) {
	switch {
	case s.power == PowerWarming && !now.Before(s.until):
		s.power = PowerOn
	case s.power == PowerCooling && !now.Before(s.until):
		s.power = PowerOff
	}
}

// lampHours returns the lamp hours at now. s.mu is held.
func (s *Sim) lampHours(now time.Time) int {
	lit := s.lit
	if s.litOn {
		lit += now.Sub(s.litFrom)
	}
	return s.cfg.LampHours + int(lit/s.cfg.LampHourEvery)
}

// setLamp lights or puts out the lamp at now. s.mu is held.
func (s *Sim) setLamp(on bool, now time.Time) {
	if on == s.litOn {
		return
	}
	if s.litOn {
		s.lit += now.Sub(s.litFrom)
	}
	s.litOn, s.litFrom = on, now
}

// parseRequest splits a command line "%1CMND param" (spec §2.1). ok is false when the line
// does not even name a command, and then nothing is answered; sep is false when the
// separator or parameter is missing or bad.
func parseRequest(line string) (class byte, body, param string, ok, sep bool) {
	if len(line) < 6 || line[0] != '%' || line[1] < '0' || line[1] > '9' {
		return 0, "", "", false, false
	}
	body = line[2:6]
	for i := 0; i < 4; i++ {
		c := body[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return 0, "", "", false, false
		}
	}
	class = line[1]
	if len(line) < 8 || line[6] != ' ' || len(line) > 7+128 {
		return class, body, "", true, false
	}
	param = line[7:]
	for i := 0; i < len(param); i++ {
		if param[i] < 0x20 || param[i] > 0x7e {
			return class, body, "", true, false
		}
	}
	return class, body, param, true, true
}

// handle answers one command line at now: the answer with its CR, or "" for no answer.
func (s *Sim) handle(line string, now time.Time) string {
	class, body, param, ok, sep := parseRequest(line)
	if !ok {
		return ""
	}
	answer := func(a string) string { return "%" + string(class) + body + "=" + a + "\r" }
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(now)
	switch {
	case s.failure:
		return answer("ERR4")
	case class != '1':
		return answer("ERR1")
	}
	query := sep && param == "?"
	switch body {
	case "POWR", "INPT", "AVMT", "ERST", "LAMP", "INST", "NAME", "INF1", "INF2", "INFO", "CLSS":
	default:
		return answer("ERR1")
	}
	if !sep {
		return answer("ERR2")
	}
	on := s.power == PowerOn
	switch body {
	case "POWR":
		switch {
		case query:
			return answer(strconv.Itoa(int(s.power)))
		case param != "0" && param != "1":
			return answer("ERR2")
		case s.power == PowerWarming || s.power == PowerCooling:
			return answer("ERR3")
		case param == "1" && s.power == PowerOff:
			s.power, s.until = PowerWarming, now.Add(s.cfg.WarmUp)
			s.setLamp(true, now)
			s.advance(now)
		case param == "0" && s.power == PowerOn:
			s.power, s.until = PowerCooling, now.Add(s.cfg.CoolDown)
			s.setLamp(false, now)
			s.advance(now)
		}
		return answer("OK")
	case "INPT":
		switch {
		case query && !on:
			return answer("ERR3")
		case query:
			return answer(s.input)
		case !validInput(param) || !s.installed(param):
			return answer("ERR2")
		case !on:
			return answer("ERR3")
		}
		s.input = param
		return answer("OK")
	case "AVMT":
		switch {
		case query && !on:
			return answer("ERR3")
		case query:
			return answer(s.avmt())
		}
		var video, audio *bool
		v := param == "11" || param == "31"
		a := param == "21" || param == "31"
		switch param {
		case "10", "11":
			video = &v
		case "20", "21":
			audio = &a
		case "30", "31":
			video, audio = &v, &a
		default:
			return answer("ERR2")
		}
		if !on {
			return answer("ERR3")
		}
		if video != nil {
			s.vmute = *video
		}
		if audio != nil {
			s.amute = *audio
		}
		return answer("OK")
	}
	// The rest are queries only.
	if !query {
		return answer("ERR2")
	}
	switch body {
	case "ERST":
		return answer(s.erst)
	case "LAMP":
		lamp := strconv.Itoa(s.lampHours(now)) + " 0"
		if s.litOn {
			lamp = lamp[:len(lamp)-1] + "1"
		}
		return answer(strings.TrimSuffix(strings.Repeat(lamp+" ", s.cfg.Lamps), " "))
	case "INST":
		return answer(strings.Join(s.cfg.Inputs, " "))
	case "NAME":
		return answer(s.cfg.Name)
	case "INF1":
		return answer(s.cfg.Manufacturer)
	case "INF2":
		return answer(s.cfg.Model)
	case "INFO":
		return answer(s.cfg.Info)
	case "CLSS":
		return answer("1")
	}
	return answer("ERR1")
}

func (s *Sim) installed(in string) bool {
	for _, i := range s.cfg.Inputs {
		if i == in {
			return true
		}
	}
	return false
}

// avmt returns the AVMT? answer (spec §4.6). s.mu is held.
func (s *Sim) avmt() string {
	switch {
	case s.vmute && s.amute:
		return "31"
	case s.vmute:
		return "11"
	case s.amute:
		return "21"
	}
	return "30"
}
