package devicec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/firmware-bridge/bridge"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
)

// testSigned is a manifest with the C tests' stand-in signature (the SHA-256 of the signed
// bytes, then 32 bytes 0xA5): the device program checks that instead of ed25519.
func testSigned(typ string, v frame.Version, image []byte) ota.Manifest {
	m := ota.Manifest{DeviceType: typ, Version: v, Size: uint32(len(image)), SHA256: sha256.Sum256(image)}
	h := sha256.Sum256(m.SignedBytes())
	m.Signature = append(h[:], bytes.Repeat([]byte{0xA5}, 32)...)
	return m
}

// TestCDeviceWithBridge runs the C device (codec and update state machine, test/device_main.c)
// on a pty pair against the Go bridge: hello, a command, a firmware update to the end, and the
// refusals, which leave it running what it ran.
func TestCDeviceWithBridge(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testCDevice(t, build(t, false, "device_main")) })
	t.Run("sanitizers", func(t *testing.T) { testCDevice(t, build(t, true, "device_main")) })
}

func testCDevice(t *testing.T, bin string) {
	p, err := transport.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmd := exec.Command(bin, "1.0.0")
	cmd.Stdin, cmd.Stdout = p.Device, p.Device
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	b := bridge.New(bridge.Config{Address: p.Address(), PingEvery: 100 * time.Millisecond, AckTimeout: 300 * time.Millisecond})
	b.Start()
	defer b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if h, up, _ := b.Info(); up && h != nil {
			if h.DeviceType != "tally-light" || h.Serial != "C-0001" || h.Version != (frame.Version{Major: 1}) || h.Caps&frame.CapUpdate == 0 {
				t.Fatalf("hello %+v", h)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hello from the C device; stderr %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ack, err := b.Command(ctx, frame.ActionSet, []frame.Field{{Key: frame.KeyTally, Value: 2}}); err != nil ||
		ack.Status != frame.StatusOK || len(ack.Fields) != 1 || ack.Fields[0].Value != 2 {
		t.Fatalf("set tally: %+v %v", ack, err)
	}

	r := rand.New(rand.NewPCG(3, 4))
	image := make([]byte, 20000)
	for i := range image {
		image[i] = byte(r.Uint32())
	}
	v11 := frame.Version{Major: 1, Minor: 1}
	good := testSigned("tally-light", v11, image)
	bad := good
	bad.Signature = append([]byte(nil), good.Signature...)
	bad.Signature[0] ^= 1
	for _, c := range []struct {
		name   string
		m      ota.Manifest
		reason frame.Reason
	}{
		{"bad signature", bad, frame.ReasonBadSignature},
		{"wrong type", testSigned("call-button", v11, image), frame.ReasonWrongType},
		{"downgrade", testSigned("tally-light", frame.Version{Minor: 9}, image), frame.ReasonDowngrade},
	} {
		var ue *bridge.UpdateError
		if err := b.Update(ctx, c.m, image, false, nil); !errors.As(err, &ue) || ue.Reason != c.reason {
			t.Errorf("%s: %v", c.name, err)
		}
		if h, _, _ := b.Info(); h.Version != (frame.Version{Major: 1}) {
			t.Errorf("%s: the device runs %s", c.name, h.Version)
		}
	}

	var steps []string
	err = b.Update(ctx, good, image, false, func(p bridge.Progress) {
		if len(steps) == 0 || steps[len(steps)-1] != p.Step {
			steps = append(steps, p.Step)
		}
	})
	if err != nil {
		t.Fatalf("update: %v; stderr %s", err, stderr.String())
	}
	if got := strings.Join(steps, ","); got != "downloading,verifying,rebooting,confirmed" {
		t.Errorf("steps %s", got)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		if h, up, _ := b.Info(); up && h.Version == v11 && h.Flags == 0 {
			break
		}
		if time.Now().After(deadline) {
			h, _, _ := b.Info()
			t.Fatalf("after the update the device says %+v", h)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Close()
	p.Close()
	select {
	case <-exited:
		exited <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("the C device did not end when its line closed")
	}
	if got := strings.TrimSpace(stderr.String()); got != "1.1.0" {
		t.Errorf("the C device ended running %q", got)
	}
}
