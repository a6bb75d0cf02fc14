package bridge

import (
	"context"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/devsim"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
)

var (
	v100 = frame.Version{Major: 1}
	v110 = frame.Version{Major: 1, Minor: 1}
	v090 = frame.Version{Minor: 9}
)

func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

func testImage(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

type steps struct {
	mu sync.Mutex
	s  []Progress
}

func (p *steps) add(x Progress) { p.mu.Lock(); p.s = append(p.s, x); p.mu.Unlock() }
func (p *steps) has(step string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range p.s {
		if x.Step == step {
			return true
		}
	}
	return false
}
func (p *steps) resumed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range p.s {
		if x.Resumed {
			return true
		}
	}
	return false
}

// The fault matrix: every case ends with the device running good firmware — the new image
// when the update could recover, else the one it ran before.
func TestUpdateFaultMatrix(t *testing.T) {
	key := testKey(1)
	image := testImage(6000)
	good, err := ota.New("tally-light", v110, image, key)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := ota.New("tally-light", v110, image, testKey(2))
	wrongType, _ := ota.New("call-button", v110, image, key)
	older, _ := ota.New("tally-light", v090, image, key)
	// A manifest whose hash is right but whose size claims more than is sent: truncated.
	truncated := image[:4000]
	corruptImage := append([]byte(nil), image...)
	corruptImage[100] ^= 1

	for _, c := range []struct {
		name    string
		fault   devsim.Fault
		m       ota.Manifest
		img     []byte
		force   bool
		want    frame.Version // running at the end
		step    string        // the failing step, "" for success
		reason  frame.Reason
		resumes bool
	}{
		{name: "ok", m: good, img: image, want: v110},
		{name: "reboot mid-transfer", fault: devsim.FaultRebootMidTransfer, m: good, img: image, want: v110, resumes: true},
		{name: "corrupt chunk", fault: devsim.FaultCorruptChunk, m: good, img: image, want: v100, step: StepFailed, reason: frame.ReasonBadHash},
		{name: "power loss before confirm", fault: devsim.FaultPowerLossBeforeConfirm, m: good, img: image, want: v100, step: StepRolledBack},
		{name: "self-test fails", fault: devsim.FaultSelfTest, m: good, img: image, want: v100, step: StepRolledBack, reason: frame.ReasonSelfTest},
		{name: "bad signature", m: otherKey, img: image, want: v100, step: StepFailed, reason: frame.ReasonBadSignature},
		{name: "wrong type", m: wrongType, img: image, want: v100, step: StepFailed, reason: frame.ReasonWrongType},
		{name: "downgrade", m: older, img: image, want: v100, step: StepFailed, reason: frame.ReasonDowngrade},
		{name: "downgrade forced", m: older, img: image, force: true, want: v090},
	} {
		t.Run(c.name, func(t *testing.T) {
			sim := startSim(t, devsim.Config{Version: v100, Caps: frame.CapTally | frame.CapUpdate,
				TrustedKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, ConfirmTimeout: 5 * time.Second})
			var rec recorder
			b := startBridge(t, rec.config(sim.Address()))
			eventually(t, "hello", func() bool { return reachable(b) })
			sim.SetFault(c.fault)
			var p steps
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := b.Update(ctx, c.m, c.img, c.force, p.add)
			var ue *UpdateError
			switch {
			case c.step == "" && err != nil:
				t.Fatalf("update: %v", err)
			case c.step != "" && (!errors.As(err, &ue) || ue.Step != c.step || (c.reason != 0 && ue.Reason != c.reason)):
				t.Fatalf("update: %v, want %s (%s)", err, c.step, ota.ReasonText(c.reason))
			}
			if c.step != "" && !p.has(c.step) {
				t.Errorf("progress %v lacks %s", p.s, c.step)
			}
			if c.step == "" && (!p.has(StepDownloading) || !p.has(StepVerifying) || !p.has(StepRebooting) || !p.has(StepConfirmed)) {
				t.Errorf("progress %v", p.s)
			}
			if c.resumes && !p.resumed() {
				t.Errorf("the transfer did not resume: %v", p.s)
			}
			eventually(t, "the device runs "+c.want.String(), func() bool {
				h, up, _ := b.Info()
				return up && h.Version == c.want && h.Flags&frame.HelloPending == 0 && sim.Firmware() == c.want && !sim.Pending()
			})
			if c.want == v100 && c.step != StepFailed {
				// Whatever went wrong, a second attempt without the fault brings the new image.
				if err := b.Update(ctx, c.m, c.img, c.force, nil); err != nil {
					t.Fatalf("second attempt: %v", err)
				}
				if sim.Firmware() != v110 {
					t.Fatalf("after the second attempt the device runs %s", sim.Firmware())
				}
			}
		})
	}

	// Images that do not match their manifest never leave the host.
	for name, img := range map[string][]byte{"truncated": truncated, "corrupted": corruptImage} {
		b := New(Config{Address: "serial:/nonexistent"})
		err := b.Update(context.Background(), good, img, false, nil)
		if !errors.Is(err, ota.ErrSize) && !errors.Is(err, ota.ErrBadHash) {
			t.Errorf("%s image: %v", name, err)
		}
	}
}

// A device that is refused a truncated image on its side (the host sent fewer bytes than the
// manifest says, e.g. a bug or a cut download) fails verify and keeps its firmware.
func TestUpdateTruncatedAtDevice(t *testing.T) {
	key := testKey(1)
	image := testImage(3000)
	m, _ := ota.New("tally-light", v110, image, key)
	sim := startSim(t, devsim.Config{Version: v100, Caps: frame.CapUpdate, TrustedKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}})
	var rec recorder
	b := startBridge(t, rec.config(sim.Address()))
	eventually(t, "hello", func() bool { return reachable(b) })
	b.mu.Lock()
	b.upd = make(chan frame.Message, 64)
	b.mu.Unlock()
	u := &upd{b: b, ctx: context.Background(), in: b.upd, m: m, image: image, progress: func(Progress) {}, chunk: 256}
	if _, err := u.ask(m.Begin(256, false), false, frame.PhaseReceiving); err != nil {
		t.Fatal(err)
	}
	if err := b.send(&frame.UpdateChunk{Offset: 0, Data: image[:256]}); err != nil {
		t.Fatal(err)
	}
	_, err := u.ask(&frame.UpdateVerify{}, false, frame.PhaseVerified)
	var ue *UpdateError
	if !errors.As(err, &ue) || ue.Reason != frame.ReasonBadHash {
		t.Fatalf("verify of a truncated image: %v", err)
	}
	if sim.Firmware() != v100 {
		t.Fatalf("running %s", sim.Firmware())
	}
}

// The line goes away in the middle of a transfer and comes back (the cable is pulled and put
// back; the device kept its power): the update goes on from the offset the device holds.
func TestUpdateResumesAfterDisconnect(t *testing.T) {
	key := testKey(1)
	image := testImage(20000)
	m, _ := ota.New("tally-light", v110, image, key)
	// At 115200 baud the transfer takes about 1.8 s, so the cable is out while it runs.
	sim := startSim(t, devsim.Config{Version: v100, Caps: frame.CapUpdate, Baud: 115200,
		TrustedKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}})
	link := filepath.Join(t.TempDir(), "ttyFW")
	plug := func() {
		os.Remove(link)
		if err := os.Symlink(strings.TrimPrefix(sim.Address(), "serial:"), link); err != nil {
			t.Error(err)
		}
	}
	plug()
	var rec recorder
	b := startBridge(t, rec.config("serial:"+link))
	eventually(t, "hello", func() bool { return reachable(b) })
	var p steps
	var once sync.Once
	replugged := make(chan error, 1)
	progress := func(x Progress) {
		p.add(x)
		if x.Step == StepDownloading && x.Percent >= 30 {
			once.Do(func() {
				go func() {
					os.Remove(link)
					err := sim.Replug()
					plug()
					replugged <- err
				}()
			})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Update(ctx, m, image, false, progress); err != nil {
		t.Fatalf("update across a disconnect: %v (progress %v)", err, p.s)
	}
	if err := <-replugged; err != nil {
		t.Fatal(err)
	}
	if !p.resumed() || sim.Firmware() != v110 {
		t.Fatalf("resumed %v, device runs %s; progress %v", p.resumed(), sim.Firmware(), p.s)
	}
	// It resumed from where the device was, not from 0.
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range p.s {
		if x.Resumed && x.Offset == 0 {
			t.Fatalf("resumed from 0: %v", p.s)
		}
	}
}

// The cable is pulled just as the image is complete, before verify: the update begins again,
// finds every byte at the device, and verifies.
func TestUpdateDisconnectBeforeVerify(t *testing.T) {
	key := testKey(1)
	image := testImage(3000)
	m, _ := ota.New("tally-light", v110, image, key)
	sim := startSim(t, devsim.Config{Version: v100, Caps: frame.CapUpdate, TrustedKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}})
	link := filepath.Join(t.TempDir(), "ttyFW")
	plug := func() {
		os.Remove(link)
		if err := os.Symlink(strings.TrimPrefix(sim.Address(), "serial:"), link); err != nil {
			t.Error(err)
		}
	}
	plug()
	var rec recorder
	b := startBridge(t, rec.config("serial:"+link))
	eventually(t, "hello", func() bool { return reachable(b) })
	var p steps
	pulled := false
	progress := func(x Progress) {
		p.add(x)
		if x.Step == StepVerifying && !pulled {
			pulled = true
			os.Remove(link)
			if err := sim.Replug(); err != nil {
				t.Error(err)
			}
			plug()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Update(ctx, m, image, false, progress); err != nil {
		t.Fatalf("update: %v (progress %v)", err, p.s)
	}
	if !pulled || !p.resumed() || sim.Firmware() != v110 {
		t.Fatalf("pulled %v, resumed %v, device runs %s; progress %v", pulled, p.resumed(), sim.Firmware(), p.s)
	}
}
