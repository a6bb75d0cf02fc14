package samsungmdc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/samsungmdc/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzReply feeds bytes from the wire to readFrame, parseReply and the decoders, as the
// answer to cmd sent to display id.
func FuzzReply(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add(fr.Reply, fr.Cmd, fr.ID)
	}
	f.Fuzz(func(t *testing.T, data []byte, cmd, id byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		fr, err := readFrame(r)
		if err != nil {
			// Garbled, or the reader's I/O error (a cut frame) that the exchange wraps.
			if !errors.Is(err, errGarbled) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("readFrame error %v", err)
			}
			return
		}
		if len(fr.data) > 255 {
			t.Fatalf("frame with %d data bytes", len(fr.data))
		}
		vals, err := parseReply(fr, cmd, id)
		if err != nil {
			var ne *NakError
			if !errors.As(err, &ne) && !errors.Is(err, errGarbled) {
				t.Fatalf("parseReply error %v is neither a NAK nor garbled", err)
			}
			if c := drivers.Code(err); c != "device_error" {
				t.Fatalf("parseReply error %v has code %s", err, c)
			}
			return
		}
		if fr.cmd != 0xFF || fr.id != id || fr.data[0] != 'A' || fr.data[1] != cmd || !bytes.Equal(vals, fr.data[2:]) {
			t.Fatalf("parseReply accepted %+v as the answer to %02X for %d", fr, cmd, id)
		}
		checkDecode(t, cmd, vals)
	})
}

// checkDecode runs the decoder of cmd and checks what it returns.
func checkDecode(t *testing.T, cmd byte, vals []byte) {
	var st drivers.State
	var err error
	if cmd == CmdStatus {
		st, err = decodeStatus(vals)
	} else {
		st, err = decodeValue(cmd, vals)
	}
	if err != nil {
		var ve *valueError
		if !errors.As(err, &ve) && !errors.Is(err, drivers.ErrUnsupported) {
			t.Fatalf("decode %02X % X: error %v of an unexpected kind", cmd, vals, err)
		}
		if cmd != CmdStatus && st != nil {
			t.Fatalf("decode %02X % X returned %v with error %v", cmd, vals, st, err)
		}
		return
	}
	if len(st) == 0 {
		t.Fatalf("decode %02X % X returned nothing", cmd, vals)
	}
	if v, ok := st["volume"].(int); ok && (v < 0 || v > 100) {
		t.Fatalf("volume %d from % X", v, vals)
	}
	if p, ok := st["power"]; ok && p != "on" && p != "off" {
		t.Fatalf("power %v from % X", p, vals)
	}
}

// FuzzDecodeStatus feeds the values of a status ACK to decodeStatus.
func FuzzDecodeStatus(f *testing.F) {
	for _, fr := range golden.Frames {
		if fr.Cmd == CmdStatus && len(fr.Reply) > 7 && fr.Reply[4] == 'A' {
			f.Add(fr.Reply[6 : len(fr.Reply)-1])
		}
	}
	f.Fuzz(func(t *testing.T, vals []byte) {
		checkDecode(t, CmdStatus, vals)
	})
}

var inputSeeds = []string{"hdmi1", "HDMI2", "dp", "0x21", "0x22", "hdmi1-pc", "", "magicinfo_s", " pc ", "0xzz", "hdmi9"}

// FuzzInputCode feeds an action's source argument to inputCode.
func FuzzInputCode(f *testing.F) {
	for _, s := range inputSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, source string) {
		code, err := inputCode(source)
		if err != nil {
			if drivers.Code(err) != "bad_args" {
				t.Fatalf("inputCode(%q) error %v", source, err)
			}
			return
		}
		for _, in := range inputs {
			if in.code == code && in.getOnly {
				t.Fatalf("inputCode(%q) = get-only %02X", source, code)
			}
		}
		if _, err := encodeFrame(CmdInput, 1, []byte{code}); err != nil {
			t.Fatal(err)
		}
	})
}

var gainSeeds = []float64{0, -30, -100, -120, 6, -0.5}

// FuzzLevelForGain feeds an action's gain argument to levelForGain.
func FuzzLevelForGain(f *testing.F) {
	for _, g := range gainSeeds {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, db float64) {
		level, err := levelForGain(db)
		if err != nil {
			if drivers.Code(err) != "bad_args" || !(db > 0 || math.IsNaN(db)) {
				t.Fatalf("levelForGain(%v) error %v", db, err)
			}
			return
		}
		if level > 100 || db > 0 || math.IsNaN(db) {
			t.Fatalf("levelForGain(%v) = %d", db, level)
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden frame as a seed; run
// go test ./drivers/samsungmdc -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzReply", fr.Name, fr.Reply, fr.Cmd, fr.ID)
		if fr.Cmd == CmdStatus && len(fr.Reply) > 7 && fr.Reply[4] == 'A' {
			c.Add("FuzzDecodeStatus", fr.Name, fr.Reply[6:len(fr.Reply)-1])
		}
	}
	for i, s := range inputSeeds {
		c.Add("FuzzInputCode", fmt.Sprintf("seed-%d", i), s)
	}
	for i, g := range gainSeeds {
		c.Add("FuzzLevelForGain", fmt.Sprintf("seed-%d", i), g)
	}
	fuzzseed.Check(t, c)
}
