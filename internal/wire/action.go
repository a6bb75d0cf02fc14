package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Actions of contract v1. A driver supports a subset and says which.
const (
	ActPower   = "power"
	ActInput   = "input"
	ActMute    = "mute"
	ActGain    = "gain"
	ActPreset  = "preset"
	ActPTZ     = "ptz"
	ActBlank   = "blank"
	ActRoute   = "route"
	ActRelay   = "relay"
	ActPulse   = "pulse"
	ActPrint   = "print"
	ActTally   = "tally"
	ActRefresh = "refresh"
	// ActFirmwareUpdate starts a firmware update of a firmware-bridge device (extension of
	// v1). The ack says the update started; its steps follow as "firmware" events.
	ActFirmwareUpdate = "firmware.update"
)

// Typed arguments of each action.
type (
	PowerArgs struct {
		On *bool `json:"on"`
	}
	InputArgs struct {
		Source string `json:"source"`
	}
	MuteArgs struct {
		On      *bool  `json:"on"`
		Channel string `json:"channel,omitempty"`
	}
	GainArgs struct {
		DB      *float64 `json:"db"`
		Channel string   `json:"channel,omitempty"`
	}
	PresetArgs struct {
		Recall *int `json:"recall,omitempty"`
		Store  *int `json:"store,omitempty"`
	}
	PTZArgs struct {
		Pan  float64 `json:"pan"`
		Tilt float64 `json:"tilt"`
		Zoom float64 `json:"zoom"`
	}
	BlankArgs struct {
		On *bool `json:"on"`
	}
	RouteArgs struct {
		Input  string `json:"input"`
		Output string `json:"output"`
		Kind   string `json:"kind,omitempty"` // "av" (default), "video", "audio"
	}
	RelayArgs struct {
		On *bool `json:"on"`
	}
	PulseArgs struct {
		MS int `json:"ms"`
	}
	// PrintArgs is a ticket or receipt; the printer driver decides the layout.
	PrintArgs struct {
		Lines   []string `json:"lines,omitempty"`
		Number  string   `json:"number,omitempty"`
		Service string   `json:"service,omitempty"`
		QR      string   `json:"qr,omitempty"`
		Cut     *bool    `json:"cut,omitempty"`
	}
	// TallyArgs sets a tally light: "off", "red" (program), "green" (preview) or "amber".
	TallyArgs struct {
		Color string `json:"color"`
	}
	RefreshArgs struct{}
	// FirmwareUpdateArgs name a firmware image stored on the hub: its ID, the URL the agent
	// fetches it from (with its own credentials), its signed manifest (firmware-bridge/ota's
	// JSON), whether a downgrade is allowed, and the rollout it belongs to (echoed in the
	// "firmware" events).
	FirmwareUpdateArgs struct {
		Image    string          `json:"image"`
		URL      string          `json:"url"`
		Manifest json.RawMessage `json:"manifest"`
		Force    bool            `json:"force,omitempty"`
		Rollout  string          `json:"rollout,omitempty"`
	}
)

// TallyColors are the colours of the tally action, in the order of the firmware-bridge
// protocol's tally values (0 off, 1 red, 2 green, 3 amber).
var TallyColors = []string{"off", "red", "green", "amber"}

type argSpec struct {
	new   func() any
	check func(any) error
}

func needBool(name string, p *bool) error {
	if p == nil {
		return fmt.Errorf("missing %q (true or false)", name)
	}
	return nil
}

var actions = map[string]argSpec{
	ActPower: {func() any { return &PowerArgs{} }, func(a any) error { return needBool("on", a.(*PowerArgs).On) }},
	ActInput: {func() any { return &InputArgs{} }, func(a any) error {
		s := a.(*InputArgs).Source
		if s == "" || len(s) > 64 {
			return fmt.Errorf("\"source\" must be 1-64 characters")
		}
		return nil
	}},
	ActMute: {func() any { return &MuteArgs{} }, func(a any) error { return needBool("on", a.(*MuteArgs).On) }},
	ActGain: {func() any { return &GainArgs{} }, func(a any) error {
		g := a.(*GainArgs)
		if g.DB == nil {
			return fmt.Errorf("missing \"db\"")
		}
		if math.IsNaN(*g.DB) || *g.DB < -120 || *g.DB > 60 {
			return fmt.Errorf("\"db\" %v out of range -120…60", *g.DB)
		}
		return nil
	}},
	ActPreset: {func() any { return &PresetArgs{} }, func(a any) error {
		p := a.(*PresetArgs)
		if (p.Recall == nil) == (p.Store == nil) {
			return fmt.Errorf("want exactly one of \"recall\" or \"store\"")
		}
		n := p.Recall
		if n == nil {
			n = p.Store
		}
		if *n < 0 || *n > 255 {
			return fmt.Errorf("preset %d out of range 0…255", *n)
		}
		return nil
	}},
	ActPTZ: {func() any { return &PTZArgs{} }, func(a any) error {
		p := a.(*PTZArgs)
		for _, v := range []struct {
			n string
			v float64
		}{{"pan", p.Pan}, {"tilt", p.Tilt}, {"zoom", p.Zoom}} {
			if math.IsNaN(v.v) || v.v < -1 || v.v > 1 {
				return fmt.Errorf("%q %v out of range -1…1", v.n, v.v)
			}
		}
		return nil
	}},
	ActBlank: {func() any { return &BlankArgs{} }, func(a any) error { return needBool("on", a.(*BlankArgs).On) }},
	ActRoute: {func() any { return &RouteArgs{} }, func(a any) error {
		r := a.(*RouteArgs)
		if r.Input == "" || r.Output == "" {
			return fmt.Errorf("want \"input\" and \"output\"")
		}
		switch r.Kind {
		case "", "av", "video", "audio":
		default:
			return fmt.Errorf("\"kind\" %q: want av, video or audio", r.Kind)
		}
		return nil
	}},
	ActRelay: {func() any { return &RelayArgs{} }, func(a any) error { return needBool("on", a.(*RelayArgs).On) }},
	ActPulse: {func() any { return &PulseArgs{} }, func(a any) error {
		if ms := a.(*PulseArgs).MS; ms < 1 || ms > 60000 {
			return fmt.Errorf("\"ms\" %d out of range 1…60000", ms)
		}
		return nil
	}},
	ActPrint: {func() any { return &PrintArgs{} }, func(a any) error {
		p := a.(*PrintArgs)
		if len(p.Lines) == 0 && p.Number == "" {
			return fmt.Errorf("nothing to print: want \"lines\" or \"number\"")
		}
		if len(p.Lines) > 64 {
			return fmt.Errorf("%d lines: at most 64", len(p.Lines))
		}
		return nil
	}},
	ActTally: {func() any { return &TallyArgs{} }, func(a any) error {
		c := a.(*TallyArgs).Color
		for _, k := range TallyColors {
			if c == k {
				return nil
			}
		}
		return fmt.Errorf("\"color\" %q: want off, red, green or amber", c)
	}},
	ActFirmwareUpdate: {func() any { return &FirmwareUpdateArgs{} }, func(a any) error {
		f := a.(*FirmwareUpdateArgs)
		switch {
		case f.Image == "" || len(f.Image) > 200:
			return fmt.Errorf("\"image\" must be 1-200 characters")
		case !strings.HasPrefix(f.URL, "http://") && !strings.HasPrefix(f.URL, "https://"):
			return fmt.Errorf("\"url\" %q: want an http:// or https:// URL", f.URL)
		case len(bytes.TrimSpace(f.Manifest)) == 0 || bytes.TrimSpace(f.Manifest)[0] != '{':
			return fmt.Errorf("\"manifest\" must be a JSON object")
		case len(f.Rollout) > 200:
			return fmt.Errorf("\"rollout\" longer than 200 characters")
		}
		return nil
	}},
	ActRefresh: {func() any { return &RefreshArgs{} }, func(any) error { return nil }},
}

// KnownAction reports whether a is an action of contract v1.
func KnownAction(a string) bool { _, ok := actions[a]; return ok }

// ActionNames lists the actions of contract v1, sorted.
func ActionNames() []string {
	out := make([]string, 0, len(actions))
	for k := range actions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseArgs decodes and checks the args of action. It returns a pointer to the action's
// typed args (e.g. *PowerArgs), or an *Error: unsupported for an unknown action, bad_args
// for args that do not fit it.
func ParseArgs(action string, raw json.RawMessage) (any, error) {
	spec, ok := actions[action]
	if !ok {
		return nil, Errorf(CodeUnsupported, "unknown action %q", action)
	}
	v := spec.new()
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return nil, Errorf(CodeBadArgs, "%s: %v", action, err)
		}
		if d.More() {
			return nil, Errorf(CodeBadArgs, "%s: trailing data after args", action)
		}
	}
	if err := spec.check(v); err != nil {
		return nil, Errorf(CodeBadArgs, "%s: %v", action, err)
	}
	return v, nil
}
