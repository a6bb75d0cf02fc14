package shure

import (
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/shure/internal/golden"
)

// decodeFrame runs a golden frame's reply through the codec the way the reader goroutine
// and an exchange do: read the first message, reject what a device never sends, turn REP ERR
// into a *ReplyError, and decode the report into state fields or a sample into levels.
func decodeFrame(f golden.Frame) (Message, drivers.State, map[string]float64, error) {
	m, err := readMessage(newReader(strings.NewReader(f.Reply)))
	if err != nil {
		return m, nil, nil, err
	}
	switch {
	case m.Kind == KindSample:
		return m, nil, meterLevels(m.Levels), nil
	case m.Kind != KindRep:
		return m, nil, nil, garbled(m.Kind, "a device sends REP and SAMPLE only")
	case isErr(m):
		return m, nil, nil, &ReplyError{Command: f.Request}
	}
	c := newCache()
	if _, err := c.apply(m); err != nil {
		return m, nil, nil, err
	}
	return m, c.state(), nil, nil
}

func checkCode(t *testing.T, code string, err error) {
	t.Helper()
	if code == "" && err != nil {
		t.Fatalf("error %v, want none", err)
	}
	if code != "" {
		if err == nil {
			t.Fatalf("no error, want %s", code)
		}
		if c := drivers.Code(err); c != code {
			t.Fatalf("error %q has code %s, want %s", err, c, code)
		}
	}
}

func TestCodecGolden(t *testing.T) {
	for _, f := range golden.Frames {
		t.Run(f.Name, func(t *testing.T) {
			if f.Request != "" {
				b, err := Command{Kind: f.Kind, Channel: f.Channel, Param: f.Param, Value: f.Value}.encode()
				if err != nil || string(b) != f.Request {
					t.Fatalf("encode = %q, %v; want %q", b, err, f.Request)
				}
			}
			m, st, meter, err := decodeFrame(f)
			checkCode(t, f.Code, err)
			if f.RKind != "" {
				got := [4]string{m.Kind, m.Channel, m.Param, m.Value}
				if want := [4]string{f.RKind, f.RChannel, f.RParam, f.RValue}; got != want {
					t.Fatalf("decoded %q, want %q", got, want)
				}
				if !reflect.DeepEqual(m.Levels, f.Levels) {
					t.Fatalf("levels %v, want %v", m.Levels, f.Levels)
				}
			}
			if f.Want == nil && len(st) > 0 {
				t.Fatalf("state %v, want none", st)
			}
			if f.Want != nil && !reflect.DeepEqual(map[string]any(st), f.Want) {
				t.Fatalf("state %#v, want %#v", st, f.Want)
			}
			if !reflect.DeepEqual(meter, f.Meter) {
				t.Fatalf("meter %v, want %v", meter, f.Meter)
			}
		})
	}
}

func TestGarbledFramesSayGarbled(t *testing.T) {
	for _, f := range golden.Frames {
		if f.Code != "device_error" || f.RKind == "REP" {
			continue
		}
		_, _, _, err := decodeFrame(f)
		if !errors.Is(err, errGarbled) || !strings.Contains(err.Error(), "garbled reply") {
			t.Errorf("%s: error %v, want a garbled reply", f.Name, err)
		}
	}
}

func TestGoldenNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range golden.Frames {
		if seen[f.Name] {
			t.Errorf("frame %q twice (it names a seed file)", f.Name)
		}
		seen[f.Name] = true
	}
}

func TestReadFrameStream(t *testing.T) {
	r := newReader(strings.NewReader("< REP 1 AUDIO_MUTE ON >< SAMPLE 010 020 >\r\n< REP MODEL {A > B   } >< REP PRESET 0"))
	for _, want := range []string{" REP 1 AUDIO_MUTE ON ", " SAMPLE 010 020 ", " REP MODEL {A > B   } "} {
		got, err := readFrame(r)
		if err != nil || got != want {
			t.Fatalf("readFrame = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := readFrame(r); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut frame: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := readFrame(newReader(strings.NewReader(""))); err != io.EOF {
		t.Fatalf("empty stream: %v, want io.EOF", err)
	}
}

func TestParseMessageSpacing(t *testing.T) {
	m, err := parseMessage("REP   2  AUDIO_MUTE   ON")
	if err != nil || m.Channel != "2" || m.Param != "AUDIO_MUTE" || m.Value != "ON" {
		t.Fatalf("parseMessage = %+v, %v", m, err)
	}
	m, err = parseMessage(" REP PRESET1 {Hearing room         } ")
	if err != nil || m.Param != "PRESET1" || m.Value != "{Hearing room         }" || decodeText(m) != "Hearing room" {
		t.Fatalf("parseMessage = %+v, %v", m, err)
	}
}

func TestGainConversion(t *testing.T) {
	for _, c := range []struct {
		db    float64
		value int
		ok    bool
	}{
		{0, 1100, true}, {-3.5, 1065, true}, {30, 1400, true}, {-110, 0, true}, {12.34, 1223, true},
		{-0.04, 1100, true}, {30.04, 1400, true}, {30.06, 0, false}, {-110.1, 0, false},
		{math.NaN(), 0, false}, {math.Inf(1), 0, false},
	} {
		v, ok := GainValue(c.db)
		if v != c.value || ok != c.ok {
			t.Errorf("GainValue(%v) = %d, %v; want %d, %v", c.db, v, ok, c.value, c.ok)
		}
	}
	for v := 0; v <= GainMax; v++ {
		if back, ok := GainValue(GainDB(v)); !ok || back != v {
			t.Fatalf("GainValue(GainDB(%d)) = %d, %v", v, back, ok)
		}
	}
	if LevelDBFS(60) != 0 || LevelDBFS(0) != -60 || LevelDBFS(37) != -23 {
		t.Fatal("LevelDBFS")
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, c := range []Command{
		{Kind: "REP", Param: "PRESET"}, {Kind: "get", Param: "PRESET"}, {Kind: "GET", Param: "preset"},
		{Kind: "GET", Channel: "100", Param: "AUDIO_MUTE"}, {Kind: "GET", Channel: "a", Param: "AUDIO_MUTE"},
		{Kind: "SET", Param: "PRESET", Value: "1 > < SET FLASH ON"}, {Kind: "SET", Param: "PRESET", Value: "\r"},
		{Kind: "SET", Param: "", Value: "1"},
	} {
		if _, err := c.encode(); drivers.Code(err) != "bad_args" {
			t.Errorf("encode(%+v): %v, want bad_args", c, err)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(nil)
	if err != nil || o.MeterRate != DefaultMeterRate || o.Model != "" || o.Channels != 0 {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = ParseOptions(map[string]string{"model": "P300", "channels": "12", "meter_rate_ms": "0"})
	if err != nil || o.Model != ModelP300 || o.Channels != 12 || o.MeterRate != 0 {
		t.Fatalf("p300: %+v, %v", o, err)
	}
	o, err = ParseOptions(map[string]string{"model": "mxa920", "meter_rate_ms": "1000"})
	if err != nil || o.Model != ModelMXA || o.MeterRate != time.Second {
		t.Fatalf("mxa920: %+v, %v", o, err)
	}
	for _, bad := range []map[string]string{
		{"model": "sm58"}, {"channels": "0"}, {"channels": "29"}, {"channels": "12"}, {"channels": "x"},
		{"meter_rate_ms": "50"}, {"meter_rate_ms": "100000"}, {"meter_rate_ms": "-1"}, {"password": "x"},
	} {
		if _, err := ParseOptions(bad); drivers.Code(err) != "bad_args" {
			t.Errorf("ParseOptions(%v): %v, want bad_args", bad, err)
		}
	}
}

func TestExpectMatches(t *testing.T) {
	rep := func(ch, p, v string) Message { return Message{Kind: KindRep, Channel: ch, Param: p, Value: v} }
	for _, c := range []struct {
		e    expect
		m    Message
		want bool
	}{
		{expect{ParamMute, 1, "ON"}, rep("01", ParamMute, "ON"), true},
		{expect{ParamMute, 1, "ON"}, rep("1", ParamMute, "OFF"), false},
		{expect{ParamMute, 1, ""}, rep("1", ParamMute, "OFF"), true},
		{expect{ParamMute, 1, ""}, rep("2", ParamMute, "OFF"), false},
		{expect{ParamPreset, -1, "03"}, rep("", ParamPreset, "3"), true},
		{expect{ParamDeviceMute, -1, ""}, rep("", ParamMute, "ON"), false},
		{expect{ParamDeviceMute, -1, ""}, Message{Kind: KindSample, Levels: []int{1}}, false},
	} {
		if got := c.e.matches(c.m); got != c.want {
			t.Errorf("%+v matches %+v = %v", c.e, c.m, got)
		}
	}
}

func TestReplyErrorMessage(t *testing.T) {
	err := &ReplyError{Command: "< SET 9 AUDIO_MUTE ON >"}
	if got, want := err.Error(), "device refused < SET 9 AUDIO_MUTE ON > (REP ERR): device error"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if !errors.Is(err, drivers.ErrDevice) {
		t.Fatal("not ErrDevice")
	}
}
