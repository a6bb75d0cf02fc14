package frame_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/internal/golden"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCRC16(t *testing.T) {
	// The check value of CRC-16/CCITT-FALSE (CRC catalogue, "CRC-16/IBM-3740").
	if got := frame.CRC16([]byte("123456789")); got != 0x29B1 {
		t.Fatalf("CRC16(123456789) = %04x, want 29b1", got)
	}
	if got := frame.CRC16(nil); got != 0xFFFF {
		t.Fatalf("CRC16() = %04x, want ffff", got)
	}
}

// The examples of Cheshire and Baker's paper, as listed on Wikipedia's COBS page.
var cobsVectors = []struct{ plain, enc string }{
	{"", "01"},
	{"00", "01 01"},
	{"00 00", "01 01 01"},
	{"00 11 00", "01 02 11 01"},
	{"11 22 00 33", "03 11 22 02 33"},
	{"11 22 33 44", "05 11 22 33 44"},
	{"11 00 00 00", "02 11 01 01 01"},
}

func TestCOBSVectors(t *testing.T) {
	for _, v := range cobsVectors {
		plain, enc := unhex(t, v.plain), unhex(t, v.enc)
		if got := frame.AppendCOBS(nil, plain); !bytes.Equal(got, enc) {
			t.Errorf("encode %s = % x, want %s", v.plain, got, v.enc)
		}
		got, err := frame.DecodeCOBS(nil, enc)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("decode %s = % x, %v, want %s", v.enc, got, err, v.plain)
		}
	}
}

func TestCOBSLongRuns(t *testing.T) {
	run := func(n int, first byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte((int(first)+i-1)%255 + 1)
		}
		return b
	}
	// 01…FE (254 bytes): FF 01…FE, no empty block after it.
	p := run(254, 1)
	if got, want := frame.AppendCOBS(nil, p), append([]byte{0xFF}, p...); !bytes.Equal(got, want) {
		t.Errorf("254 bytes: % x", got[:4])
	}
	// 00 01…FE (255 bytes): 01 FF 01…FE.
	p = append([]byte{0}, run(254, 1)...)
	if got, want := frame.AppendCOBS(nil, p), append([]byte{0x01, 0xFF}, run(254, 1)...); !bytes.Equal(got, want) {
		t.Errorf("00 then 254 bytes: % x", got[:4])
	}
	// 01…FF (255 bytes): FF 01…FE 02 FF.
	p = run(255, 1)
	want := append(append([]byte{0xFF}, run(254, 1)...), 0x02, 0xFF)
	if got := frame.AppendCOBS(nil, p); !bytes.Equal(got, want) {
		t.Errorf("255 bytes: % x", got[len(got)-4:])
	}
	for n := range 1100 {
		p := run(n, byte(n))
		for i := 0; i < n; i += 97 {
			p[i] = 0
		}
		enc := frame.AppendCOBS(nil, p)
		if len(enc) > frame.COBSLen(n) || bytes.IndexByte(enc, 0) >= 0 {
			t.Fatalf("n=%d: encoded %d bytes (max %d), zero at %d", n, len(enc), frame.COBSLen(n), bytes.IndexByte(enc, 0))
		}
		dec, err := frame.DecodeCOBS(nil, enc)
		if err != nil || !bytes.Equal(dec, p) {
			t.Fatalf("n=%d: round trip failed: %v", n, err)
		}
	}
}

// TestGolden checks every golden frame both ways: the wire bytes decode to the message (or
// fail with the error), and the message encodes to the wire bytes.
func TestGolden(t *testing.T) {
	names := map[string]bool{}
	types := map[frame.Type]bool{}
	for _, g := range golden.Frames {
		t.Run(g.Name, func(t *testing.T) {
			if names[g.Name] {
				t.Fatal("duplicate name")
			}
			names[g.Name] = true
			m, err := frame.Decode(g.Wire)
			if g.Err != nil {
				if !errors.Is(err, g.Err) || m != nil {
					t.Fatalf("Decode = %v, %v; want error %v", m, err, g.Err)
				}
				if !strings.HasPrefix(err.Error(), "frame: ") && !strings.Contains(err.Error(), ": frame: ") {
					t.Errorf("error %q does not name the package", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(m, g.Msg) {
				t.Fatalf("Decode = %+v, want %+v", m, g.Msg)
			}
			types[m.Type()] = true
			enc, err := frame.AppendFrame(nil, g.Msg)
			if err != nil {
				t.Fatal(err)
			}
			if want := append(append([]byte(nil), g.Wire...), 0); !bytes.Equal(enc, want) {
				t.Fatalf("AppendFrame = %x\nwant            %x", enc, want)
			}
			raw, err := frame.Marshal(g.Msg)
			if err != nil {
				t.Fatal(err)
			}
			if m2, err := frame.Unmarshal(raw); err != nil || !reflect.DeepEqual(m2, g.Msg) {
				t.Fatalf("Unmarshal(Marshal) = %+v, %v", m2, err)
			}
		})
	}
	for ty := frame.Type(0); ty < 0xFF; ty++ {
		if ty.String() != "type-0x"+hex.EncodeToString([]byte{byte(ty)}) && !types[ty] {
			t.Errorf("no golden frame of type %s", ty)
		}
	}
}

func TestMarshalInvalid(t *testing.T) {
	many := make([]frame.Field, frame.MaxFields+1)
	for _, m := range []frame.Message{
		&frame.Hello{MaxFrame: 512, DeviceType: ""},
		&frame.Hello{MaxFrame: 512, DeviceType: "Tally"},
		&frame.Hello{MaxFrame: 512, DeviceType: "tally", Serial: "has space"},
		&frame.Hello{MaxFrame: 512, DeviceType: strings.Repeat("a", 33)},
		&frame.Hello{MaxFrame: 8, DeviceType: "tally"},
		&frame.Hello{Proto: 2, MaxFrame: 512, DeviceType: "tally"},
		&frame.State{Fields: many},
		&frame.UpdateChunk{},
		&frame.UpdateChunk{Data: make([]byte, frame.MaxChunk+1)},
		&frame.UpdateBegin{DeviceType: "tally"},
		&frame.UpdateBegin{ChunkSize: 1, DeviceType: ""},
	} {
		if b, err := frame.AppendFrame([]byte{9}, m); !errors.Is(err, frame.ErrInvalid) || !bytes.Equal(b, []byte{9}) {
			t.Errorf("AppendFrame(%+v) = %x, %v; want ErrInvalid", m, b, err)
		}
	}
	// Proto 0 is sent as ProtoVersion.
	raw, err := frame.Marshal(&frame.Hello{MaxFrame: 512, DeviceType: "tally"})
	if err != nil || raw[1] != frame.ProtoVersion {
		t.Fatalf("Marshal(hello) = %x, %v", raw, err)
	}
}

func TestVersionCompare(t *testing.T) {
	v := func(a, b, c uint16) frame.Version { return frame.Version{Major: a, Minor: b, Patch: c} }
	for _, c := range []struct {
		a, b frame.Version
		want int
	}{
		{v(1, 2, 3), v(1, 2, 3), 0}, {v(1, 2, 3), v(1, 2, 4), -1}, {v(2, 0, 0), v(1, 9, 9), 1}, {v(1, 10, 0), v(1, 9, 0), 1},
	} {
		if got := c.a.Compare(c.b); got != c.want {
			t.Errorf("%s.Compare(%s) = %d", c.a, c.b, got)
		}
	}
}
