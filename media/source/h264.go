package source

import (
	"encoding/binary"

	"github.com/pion/rtp"
)

// DefaultMaxPayload is the largest RTP payload sent to the hub: a WebRTC path has room for
// about 1200 bytes of payload once SRTP and header extensions are added.
const DefaultMaxPayload = 1188

// H.264 NAL unit types (H.264 Table 7-1; 24 and 28 from RFC 6184).
const (
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
	nalSTAPA = 24
	nalFUA   = 28
)

// h264Fixer passes a camera's H.264 RTP through untouched where WebRTC takes it as it is,
// and rewrites only what WebRTC needs:
//
//   - an IDR that does not follow its SPS and PPS in the stream gets them first, in a
//     STAP-A (from the stream or the SDP's sprop-parameter-sets): a browser cannot decode
//     an IDR without them, and a camera may send them only out of band;
//   - a packet whose payload is over maxPayload (cameras send up to 64 KiB over TCP) is
//     split: a single NAL unit into FU-A fragments, an FU-A into smaller ones, a STAP-A into
//     its NAL units;
//   - sequence numbers move up by the packets added, and sequence numbers and timestamps
//     run on across RTSP sessions (a camera's reconnect must not look like a jump back);
//   - a camera's own RTP header extensions (ONVIF replay, vendor data) go: their IDs were
//     never negotiated with the hub, and pion adds the ones the session uses.
//
// Gaps in the camera's numbering stay gaps, so the hub's NACKs and loss statistics still
// see them.
type h264Fixer struct {
	maxPayload int
	sps, pps   []byte
	paramsTS   uint32 // input timestamp at which parameter sets last went by
	haveParams bool

	numbering

	Injected, Split int64 // counters, for tests and logs
}

func newH264Fixer(maxPayload int) *h264Fixer {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	return &h264Fixer{maxPayload: maxPayload, numbering: numbering{gap: 3000}}
}

// session starts a new input session with the parameter sets of its SDP (may be nil).
func (f *h264Fixer) session(sps, pps []byte) {
	if len(sps) > 0 && len(pps) > 0 {
		f.sps, f.pps = clone(sps), clone(pps)
	}
	f.haveParams = false
	f.restart()
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// push returns the packets to send for p. They may share p's payload.
func (f *h264Fixer) push(p *rtp.Packet) []*rtp.Packet {
	if len(p.Payload) == 0 {
		return nil
	}
	f.begin(p)
	dropExtensions(p)
	idr := f.scan(p)
	var out []*rtp.Packet
	if idr && !(f.haveParams && f.paramsTS == p.Timestamp) && f.sps != nil && f.pps != nil {
		out = append(out, f.stapA(p))
		f.paramsTS, f.haveParams = p.Timestamp, true
		f.Injected++
	}
	if len(p.Payload) <= f.maxPayload {
		out = append(out, p)
	} else {
		f.Split++
		out = append(out, f.split(p)...)
	}
	f.number(p, out)
	return out
}

// numbering keeps sequence numbers and timestamps running on across input sessions and
// packets added.
type numbering struct {
	gap        uint32 // timestamp step put between two sessions
	started    bool
	newSession bool
	seqOff     uint16
	tsOff      uint32
	lastSeq    uint16 // last output
	lastTS     uint32
}

// restart says the next packet starts a new input session.
func (n *numbering) restart() { n.newSession = true }

// begin sets the offsets at the first packet of a session.
func (n *numbering) begin(p *rtp.Packet) {
	if n.newSession || !n.started {
		if n.started {
			n.seqOff = n.lastSeq + 1 - p.SequenceNumber
			n.tsOff = n.lastTS + n.gap - p.Timestamp
		}
		n.started, n.newSession = true, false
	}
}

// number numbers the packets made of in: the first keeps in's number plus the offset; each
// packet added moves the offset up by one.
func (n *numbering) number(in *rtp.Packet, out []*rtp.Packet) {
	for i, q := range out {
		if i > 0 {
			n.seqOff++
		}
		q.SequenceNumber = in.SequenceNumber + n.seqOff
		q.Timestamp = in.Timestamp + n.tsOff
	}
	if len(out) > 0 {
		n.lastSeq, n.lastTS = out[len(out)-1].SequenceNumber, out[len(out)-1].Timestamp
	}
}

// scan notes in-band parameter sets and tells whether p starts an IDR picture.
func (f *h264Fixer) scan(p *rtp.Packet) (idr bool) {
	b := p.Payload
	note := func(nal []byte) {
		switch nal[0] & 0x1f {
		case nalSPS:
			f.sps, f.paramsTS, f.haveParams = clone(nal), p.Timestamp, true
		case nalPPS:
			f.pps = clone(nal)
		case nalIDR:
			idr = true
		}
	}
	switch t := b[0] & 0x1f; {
	case t >= 1 && t <= 23:
		note(b)
	case t == nalSTAPA:
		for rest := b[1:]; len(rest) >= 2; {
			n := int(binary.BigEndian.Uint16(rest))
			if n == 0 || 2+n > len(rest) {
				break
			}
			note(rest[2 : 2+n])
			rest = rest[2+n:]
		}
	case t == nalFUA:
		if len(b) >= 2 && b[1]&0x80 != 0 && b[1]&0x1f == nalIDR {
			idr = true
		}
	}
	return idr
}

func (f *h264Fixer) stapA(p *rtp.Packet) *rtp.Packet {
	pl := make([]byte, 0, 5+len(f.sps)+len(f.pps))
	nri := max(f.sps[0]&0x60, f.pps[0]&0x60)
	pl = append(pl, nri|nalSTAPA)
	pl = binary.BigEndian.AppendUint16(pl, uint16(len(f.sps)))
	pl = append(pl, f.sps...)
	pl = binary.BigEndian.AppendUint16(pl, uint16(len(f.pps)))
	pl = append(pl, f.pps...)
	h := p.Header
	h.Marker = false
	h.Extension, h.Extensions = false, nil
	return &rtp.Packet{Header: h, Payload: pl}
}

// split breaks an oversized packet into packets of at most maxPayload bytes; the marker bit
// goes on the last.
func (f *h264Fixer) split(p *rtp.Packet) []*rtp.Packet {
	b := p.Payload
	var pls [][]byte
	switch t := b[0] & 0x1f; {
	case t >= 1 && t <= 23:
		pls = f.fragment(b[0], b[1:], true, true)
	case t == nalFUA && len(b) > 2:
		pls = f.fragment(b[0], b[2:], b[1]&0x80 != 0, b[1]&0x40 != 0, b[1]&0x1f)
	case t == nalSTAPA:
		for rest := b[1:]; len(rest) >= 2; {
			n := int(binary.BigEndian.Uint16(rest))
			if n == 0 || 2+n > len(rest) {
				break
			}
			nal := rest[2 : 2+n]
			if len(nal) <= f.maxPayload {
				pls = append(pls, nal)
			} else {
				pls = append(pls, f.fragment(nal[0], nal[1:], true, true)...)
			}
			rest = rest[2+n:]
		}
	}
	if len(pls) == 0 {
		return []*rtp.Packet{p} // FU-B, MTAP, …: pass as it is
	}
	out := make([]*rtp.Packet, len(pls))
	for i, pl := range pls {
		h := p.Header
		h.Marker = p.Marker && i == len(pls)-1
		if i > 0 {
			h.Extension, h.Extensions = false, nil
		}
		out[i] = &rtp.Packet{Header: h, Payload: pl}
	}
	return out
}

// fragment makes FU-A payloads of a NAL unit's body (or of a fragment's body: start and end
// say whether it holds the NAL unit's first and last bytes). typ overrides the NAL type when
// the header byte is an FU indicator.
func (f *h264Fixer) fragment(header byte, body []byte, start, end bool, typ ...byte) [][]byte {
	nalType := header & 0x1f
	if len(typ) > 0 {
		nalType = typ[0]
	}
	chunk := f.maxPayload - 2
	var out [][]byte
	for i := 0; i < len(body); i += chunk {
		j := min(i+chunk, len(body))
		fu := nalType
		if i == 0 && start {
			fu |= 0x80
		}
		if j == len(body) && end {
			fu |= 0x40
		}
		pl := make([]byte, 0, 2+j-i)
		pl = append(pl, header&0xe0|nalFUA, fu)
		out = append(out, append(pl, body[i:j]...))
	}
	return out
}

// dropExtensions removes a packet's header extensions.
func dropExtensions(p *rtp.Packet) {
	p.Extension, p.Extensions, p.ExtensionProfile = false, nil, 0
}
