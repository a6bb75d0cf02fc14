package clips

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"math"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// DefaultMTU is PlayerOptions.MTU's default: the largest RTP packet, header included, that
// fits a WebRTC path with room for SRTP and header extensions.
const DefaultMTU = 1200

// PlayerOptions configure a Player.
type PlayerOptions struct {
	PayloadType uint8
	SSRC        uint32 // 0: random
	MTU         int    // largest RTP packet, header included; default DefaultMTU
}

// Player turns a clip into RTP packets, looping, with sequence numbers and timestamps that
// run on across loops. It is not safe for concurrent use, except SkipToKey.
type Player struct {
	c   *Clip
	o   PlayerOptions
	pay rtp.Payloader
	i   int
	seq uint16
	ts  uint32 // of the next frame
	ts0 uint32
	el  time.Duration // media time played

	wantKey chan struct{}
}

// NewPlayer makes a player of c starting at its first frame, with random first sequence
// number and timestamp (RFC 3550 §5.1).
func NewPlayer(c *Clip, o PlayerOptions) *Player {
	if o.MTU <= 12 {
		o.MTU = DefaultMTU
	}
	var b [10]byte
	_, _ = rand.Read(b[:])
	if o.SSRC == 0 {
		o.SSRC = binary.BigEndian.Uint32(b[0:4]) | 1
	}
	p := &Player{c: c, o: o, seq: binary.BigEndian.Uint16(b[4:6]), ts: binary.BigEndian.Uint32(b[6:10]), wantKey: make(chan struct{}, 1)}
	p.ts0 = p.ts
	switch c.Codec {
	case H264:
		p.pay = &codecs.H264Payloader{}
	case VP8:
		p.pay = &codecs.VP8Payloader{EnablePictureID: true}
	default:
		p.pay = &codecs.OpusPayloader{}
	}
	return p
}

// Clip is the clip played.
func (p *Player) Clip() *Clip { return p.c }

// SSRC is the player's synchronisation source.
func (p *Player) SSRC() uint32 { return p.o.SSRC }

// SequenceNumber and Timestamp are those of the next packet.
func (p *Player) SequenceNumber() uint16 { return p.seq }

// Timestamp is the RTP timestamp of the next frame.
func (p *Player) Timestamp() uint32 { return p.ts }

// SkipToKey makes the next frame a keyframe (an encoder answering a PLI): the player skips
// ahead to the clip's next one. Safe to call from any goroutine.
func (p *Player) SkipToKey() {
	select {
	case p.wantKey <- struct{}{}:
	default:
	}
}

// Next returns the packets of the next frame (the last one with the marker bit) and how long
// the frame lasts.
func (p *Player) Next() ([]*rtp.Packet, time.Duration) {
	select {
	case <-p.wantKey:
		for j := range len(p.c.Frames) {
			if p.c.Frames[(p.i+j)%len(p.c.Frames)].Key {
				p.i = (p.i + j) % len(p.c.Frames)
				break
			}
		}
	default:
	}
	f := p.c.Frames[p.i]
	p.i = (p.i + 1) % len(p.c.Frames)
	payloads := p.pay.Payload(uint16(p.o.MTU-12), f.Data)
	out := make([]*rtp.Packet, len(payloads))
	for k, pl := range payloads {
		out[k] = &rtp.Packet{
			Header: rtp.Header{
				Version: 2, PayloadType: p.o.PayloadType, SequenceNumber: p.seq,
				Timestamp: p.ts, SSRC: p.o.SSRC, Marker: k == len(payloads)-1,
			},
			Payload: pl,
		}
		p.seq++
	}
	// From the media time played, so frame durations that are not whole ticks do not drift.
	p.el += f.Duration
	p.ts = p.ts0 + uint32(uint64(math.Round(p.el.Seconds()*float64(p.c.ClockRate))))
	return out, f.Duration
}

// Run sends each frame's packets at the frame's time, in real time, until ctx ends or send
// fails. A sender that falls more than a second behind resets the clock instead of
// bursting to catch up.
func (p *Player) Run(ctx context.Context, send func([]*rtp.Packet) error) error {
	start := time.Now()
	var at time.Duration
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		if d := time.Until(start.Add(at)); d > 0 {
			t.Reset(d)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		} else if d < -time.Second {
			start, at = time.Now(), 0
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pkts, dur := p.Next()
		if err := send(pkts); err != nil {
			return err
		}
		at += dur
	}
}
