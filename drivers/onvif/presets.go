package onvif

import (
	"strconv"
	"strings"
)

// PresetName is the name the driver gives a preset it creates to store preset number n on a
// camera that has no preset n yet: "bailiff-3".
func PresetName(n int) string { return "bailiff-" + strconv.Itoa(n) }

// FindPreset returns the token of preset number n among the camera's presets: the preset
// named PresetName(n) (what StorePreset creates), else the preset whose token is n in decimal
// ("3", or "03"), as most cameras number their presets. ok is false when there is none.
func FindPreset(ps []Preset, n int) (token string, ok bool) {
	name := PresetName(n)
	for _, p := range ps {
		if strings.EqualFold(strings.TrimSpace(p.Name), name) {
			return p.Token, true
		}
	}
	for _, p := range ps {
		if presetNumber(p.Token) == n {
			return p.Token, true
		}
	}
	return "", false
}

// presetNumber returns the number a token of decimal digits stands for, or -1.
func presetNumber(tok string) int {
	if tok == "" || len(tok) > 6 {
		return -1
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return -1
		}
	}
	n, err := strconv.Atoi(tok)
	if err != nil {
		return -1
	}
	return n
}
