package devicec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/internal/golden"
)

// build compiles the C tests; without gcc the test fails: the C codec must not go untested.
// With sanitize, the build adds AddressSanitizer and UBSan (any report fails the run); a gcc
// without their runtimes skips that variant only.
func build(t *testing.T, sanitize bool, name ...string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc not found: the C codec cannot be tested (install gcc): %v", err)
	}
	test := "test_frame"
	if len(name) > 0 {
		test = name[0]
	}
	bin := filepath.Join(t.TempDir(), test)
	args := []string{"-Wall", "-Wextra", "-Werror", "-std=c99", "-pedantic", "-O2"}
	if sanitize {
		args = append(args, "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")
	}
	args = append(args, "-o", bin, filepath.Join("test", test+".c"), filepath.Join("src", "bailiff_frame.c"),
		filepath.Join("src", "bailiff_update.c"))
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// errName is the C test's name of a drop error.
func errName(err error) string {
	for _, e := range []struct {
		err  error
		name string
	}{
		{frame.ErrGarbled, "garbled"}, {frame.ErrShort, "short"}, {frame.ErrOversized, "oversized"},
		{frame.ErrCRC, "crc"}, {frame.ErrUnknownType, "unknown-type"}, {frame.ErrPayload, "payload"},
		{frame.ErrVersion, "version"},
	} {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	return "ok"
}

func fields(f []frame.Field) string {
	var s []string
	for _, x := range f {
		s = append(s, fmt.Sprintf("%d:%d", x.Key, x.Value))
	}
	return " fields=[" + strings.Join(s, ",") + "]"
}

// dump is the text form test_frame.c prints of a message.
func dump(m frame.Message) string {
	switch m := m.(type) {
	case *frame.Hello:
		return fmt.Sprintf("hello proto=%d flags=%d caps=%x max_frame=%d version=%s device_type=%s serial=%s",
			m.Proto, m.Flags, uint32(m.Caps), m.MaxFrame, m.Version, m.DeviceType, m.Serial)
	case *frame.Ping:
		return fmt.Sprintf("ping nonce=%d", m.Nonce)
	case *frame.Pong:
		return fmt.Sprintf("pong nonce=%d", m.Nonce)
	case *frame.State:
		return "state" + fields(m.Fields)
	case *frame.Event:
		return fmt.Sprintf("event code=%d", m.Code) + fields(m.Fields)
	case *frame.Command:
		return fmt.Sprintf("command id=%d action=%d", m.ID, m.Action) + fields(m.Fields)
	case *frame.Ack:
		return fmt.Sprintf("ack id=%d status=%d", m.ID, m.Status) + fields(m.Fields)
	case *frame.UpdateBegin:
		return fmt.Sprintf("update-begin size=%d version=%s chunk_size=%d flags=%d sha256=%x signature=%x device_type=%s",
			m.Size, m.Version, m.ChunkSize, m.Flags, m.SHA256, m.Signature, m.DeviceType)
	case *frame.UpdateChunk:
		return fmt.Sprintf("update-chunk offset=%d data=%x", m.Offset, m.Data)
	case *frame.UpdateChunkAck:
		return fmt.Sprintf("update-chunk-ack next=%d status=%d", m.Next, m.Status)
	case *frame.UpdateStatus:
		return fmt.Sprintf("update-status phase=%d reason=%d offset=%d version=%s", m.Phase, m.Reason, m.Offset, m.Version)
	case *frame.UpdateAbort:
		return fmt.Sprintf("update-abort reason=%d", m.Reason)
	}
	return m.Type().String() // the messages without payload
}

// TestC runs the C unit tests, then feeds the C codec every golden frame as the Go encoder
// makes it, checks the C decoding field by field (through the text dump) and its errors, and
// decodes what the C encoder makes of each message with the Go decoder.
func TestC(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testC(t, build(t, false)) })
	t.Run("sanitizers", func(t *testing.T) { testC(t, build(t, true)) })
}

func testC(t *testing.T, bin string) {
	var in bytes.Buffer
	want := map[string]golden.Frame{}
	for _, g := range append(golden.Frames, differential(t)...) {
		if bytes.IndexByte(g.Wire, 0) >= 0 {
			continue // cannot travel between two delimiters
		}
		w := g.Wire
		if g.Msg != nil {
			enc, err := frame.AppendFrame(nil, g.Msg) // Go encoder → C decoder
			if err != nil {
				t.Fatal(err)
			}
			w = enc[:len(enc)-1]
		}
		h := hex.EncodeToString(w)
		if h == "" {
			h = "-"
		}
		fmt.Fprintf(&in, "%s\t%s\t%s\n", g.Name, h, errName(g.Err))
		want[g.Name] = g
	}
	path := filepath.Join(t.TempDir(), "golden.txt")
	if err := os.WriteFile(path, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("C tests failed: %v\n%s", err, stderr.Bytes())
	}
	seen := 0
	var stream string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "\t")
		if parts[0] == "stream" && len(parts) == 2 {
			stream = parts[1]
			continue
		}
		if len(parts) != 3 {
			t.Fatalf("bad line from the C test: %q", line)
		}
		g, ok := want[parts[0]]
		if !ok || g.Msg == nil {
			t.Fatalf("C test printed %q", parts[0])
		}
		seen++
		if d := dump(g.Msg); parts[1] != d {
			t.Errorf("%s: C decoded\n%s\nwant\n%s", g.Name, parts[1], d)
		}
		cw, err := hex.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		m, err := frame.Decode(cw) // C encoder → Go decoder
		if err != nil || !reflect.DeepEqual(m, g.Msg) {
			t.Errorf("%s: Go decodes the C encoding %x as %+v, %v", g.Name, cw, m, err)
		}
		if gw, _ := frame.AppendFrame(nil, g.Msg); !bytes.Equal(cw, gw[:len(gw)-1]) {
			t.Errorf("%s: C encodes %x, Go %x", g.Name, cw, gw[:len(gw)-1])
		}
	}
	var goods int
	var count = map[string]int{}
	for _, g := range want {
		if g.Msg != nil {
			goods++
		} else if len(g.Wire) > 0 { // an empty frame on a stream is idle fill, not counted
			count[errName(g.Err)]++
		}
	}
	if seen != goods {
		t.Errorf("C decoded %d good frames, want %d", seen, goods)
	}
	wantStream := fmt.Sprintf("frames=%d garbled=%d short=%d oversized=%d crc=%d unknown=%d malformed=%d",
		goods, count["garbled"], count["short"], count["oversized"], count["crc"], count["unknown-type"], count["payload"]+count["version"])
	if stream != wantStream {
		t.Errorf("C stream receiver counted\n%s\nwant\n%s", stream, wantStream)
	}
	t.Logf("C: %s; %d frames, %d decode; %s", strings.TrimSpace(stderr.String()), len(want), goods, stream)
}

// differential returns more frames for the C codec, each with what the Go codec makes of it:
// the Go fuzz corpus of the frame decoder (seeds and any finds), and golden frames mutated at
// random (a seeded generator: the same every run).
func differential(t *testing.T) []golden.Frame {
	var wires [][]byte
	var names []string
	files, _ := filepath.Glob(filepath.Join("..", "frame", "testdata", "fuzz", "FuzzDecode", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a one-argument corpus file", f)
		}
		w, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		wires = append(wires, []byte(w))
		names = append(names, "corpus-"+filepath.Base(f))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 3000 {
		g := golden.Frames[rng.IntN(len(golden.Frames))]
		w := append([]byte(nil), g.Wire...)
		switch rng.IntN(4) {
		case 0: // flip a bit
			if len(w) > 0 {
				w[rng.IntN(len(w))] ^= 1 << rng.IntN(8)
			}
		case 1: // cut short
			w = w[:rng.IntN(len(w)+1)]
		case 2: // a byte lost
			if len(w) > 0 {
				j := rng.IntN(len(w))
				w = append(w[:j], w[j+1:]...)
			}
		case 3: // a byte more
			j := rng.IntN(len(w) + 1)
			w = append(w[:j], append([]byte{byte(rng.IntN(256))}, w[j:]...)...)
		}
		if i%2 == 1 { // mutate the frame inside a good CRC and COBS: the payload checks
			raw, err := frame.DecodeCOBS(nil, g.Wire)
			if err != nil || len(raw) < 3 {
				continue
			}
			body := raw[:len(raw)-2]
			switch j := rng.IntN(len(body)); rng.IntN(3) {
			case 0:
				body[j] ^= 1 << rng.IntN(8)
			case 1:
				body = body[:j+1]
			case 2:
				body = append(body[:j+1], append([]byte{byte(rng.IntN(256))}, body[j+1:]...)...)
			}
			w = frame.AppendCOBS(nil, binary.LittleEndian.AppendUint16(body, frame.CRC16(body)))
		}
		wires = append(wires, w)
		names = append(names, fmt.Sprintf("mutant-%d", i))
	}
	var out []golden.Frame
	for i, w := range wires {
		m, err := frame.Decode(w)
		out = append(out, golden.Frame{Name: names[i], Wire: w, Msg: m, Err: err})
	}
	return out
}
