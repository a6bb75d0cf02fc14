package sfu

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// offerInfo is what checkOffer learnt of an offer.
type offerInfo struct {
	sends, receives int // audio/video sections that send / receive
}

// checkOffer rejects, before pion sees it, an offer that is too large,
// malformed, or not one this side answers: a publisher's must send audio
// or video, a viewer's must receive some. Simulcast is not supported.
func checkOffer(offer string, publish bool) (offerInfo, error) {
	var oi offerInfo
	switch {
	case strings.TrimSpace(offer) == "":
		return oi, fmt.Errorf("%w: empty", ErrBadOffer)
	case len(offer) > MaxSDP:
		return oi, fmt.Errorf("%w: %d bytes (at most %d)", ErrBadOffer, len(offer), MaxSDP)
	case strings.IndexByte(offer, 0) >= 0:
		return oi, fmt.Errorf("%w: NUL byte", ErrBadOffer)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return oi, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if n := len(sd.MediaDescriptions); n == 0 || n > MaxMediaSections {
		return oi, fmt.Errorf("%w: %d media sections (want 1 to %d)", ErrBadOffer, n, MaxMediaSections)
	}
	_, ufrag := sd.Attribute("ice-ufrag")
	_, pwd := sd.Attribute("ice-pwd")
	_, fp := sd.Attribute("fingerprint")
	sessionDir := direction(sd.Attributes, webrtc.RTPTransceiverDirectionSendrecv)
	for i, md := range sd.MediaDescriptions {
		if md == nil {
			return oi, fmt.Errorf("%w: media section %d is empty", ErrBadOffer, i)
		}
		kind := md.MediaName.Media
		if kind != "audio" && kind != "video" && kind != "application" {
			return oi, fmt.Errorf("%w: media section %d is %q", ErrBadOffer, i, kind)
		}
		if mid, ok := md.Attribute("mid"); !ok || mid == "" || len(mid) > 32 {
			return oi, fmt.Errorf("%w: media section %d has no usable a=mid", ErrBadOffer, i)
		}
		if _, ok := md.Attribute("simulcast"); ok {
			return oi, fmt.Errorf("%w: simulcast is not supported", ErrBadOffer)
		}
		if _, ok := md.Attribute("rid"); ok {
			return oi, fmt.Errorf("%w: simulcast (a=rid) is not supported", ErrBadOffer)
		}
		if _, ok := md.Attribute("ice-ufrag"); ok {
			ufrag = true
		}
		if _, ok := md.Attribute("ice-pwd"); ok {
			pwd = true
		}
		if _, ok := md.Attribute("fingerprint"); ok {
			fp = true
		}
		if kind == "application" || md.MediaName.Port.Value == 0 && !hasAttr(md.Attributes, "bundle-only") {
			continue
		}
		switch direction(md.Attributes, sessionDir) {
		case webrtc.RTPTransceiverDirectionSendrecv:
			oi.sends++
			oi.receives++
		case webrtc.RTPTransceiverDirectionSendonly:
			oi.sends++
		case webrtc.RTPTransceiverDirectionRecvonly:
			oi.receives++
		}
	}
	switch {
	case !ufrag || !pwd:
		return oi, fmt.Errorf("%w: no ICE credentials (a=ice-ufrag, a=ice-pwd)", ErrBadOffer)
	case !fp:
		return oi, fmt.Errorf("%w: no DTLS fingerprint", ErrBadOffer)
	case publish && oi.sends == 0:
		return oi, fmt.Errorf("%w: the offer sends no audio or video", ErrBadOffer)
	case !publish && oi.receives == 0:
		return oi, fmt.Errorf("%w: the offer receives no audio or video", ErrBadOffer)
	}
	return oi, nil
}

func hasAttr(attrs []sdp.Attribute, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

func direction(attrs []sdp.Attribute, def webrtc.RTPTransceiverDirection) webrtc.RTPTransceiverDirection {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv":
			return webrtc.RTPTransceiverDirectionSendrecv
		case "sendonly":
			return webrtc.RTPTransceiverDirectionSendonly
		case "recvonly":
			return webrtc.RTPTransceiverDirectionRecvonly
		case "inactive":
			return webrtc.RTPTransceiverDirectionInactive
		}
	}
	return def
}

// withICECredentials returns desc with its ICE credentials replaced and
// its candidates dropped: the remote offer of an ICE restart that WHIP
// signals with a PATCH rather than a new offer (RFC 9725 §4.3.3).
func withICECredentials(desc, ufrag, pwd string) (string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(desc); err != nil {
		return "", err
	}
	replace := func(attrs []sdp.Attribute) ([]sdp.Attribute, bool) {
		out := attrs[:0:0]
		had := false
		for _, a := range attrs {
			switch a.Key {
			case "ice-ufrag":
				a.Value, had = ufrag, true
			case "ice-pwd":
				a.Value = pwd
			case "candidate", "end-of-candidates":
				continue
			}
			out = append(out, a)
		}
		return out, had
	}
	var had bool
	sd.Attributes, had = replace(sd.Attributes)
	for _, md := range sd.MediaDescriptions {
		var m bool
		md.Attributes, m = replace(md.Attributes)
		had = had || m
	}
	if !had {
		sd.Attributes = append(sd.Attributes, sdp.Attribute{Key: "ice-ufrag", Value: ufrag},
			sdp.Attribute{Key: "ice-pwd", Value: pwd})
	}
	sd.Origin.SessionVersion++
	b, err := sd.Marshal()
	return string(b), err
}

// ICEParameters are one side's ICE credentials and candidates, for the
// answer to an ICE restart (an application/trickle-ice-sdpfrag).
type ICEParameters struct {
	Ufrag, Pwd string
	// Media and Mid are the kind and mid of the first media section: the
	// one a bundled session's candidates belong to.
	Media, Mid string
	// Candidates are "candidate:…" attribute values.
	Candidates []string
}

// iceParameters reads the ICE parameters of a description.
func iceParameters(desc string) (ICEParameters, error) {
	var p ICEParameters
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(desc); err != nil {
		return p, err
	}
	p.Ufrag, _ = sd.Attribute("ice-ufrag")
	p.Pwd, _ = sd.Attribute("ice-pwd")
	for _, a := range sd.Attributes {
		if a.Key == "candidate" {
			p.Candidates = append(p.Candidates, "candidate:"+a.Value)
		}
	}
	if len(sd.MediaDescriptions) > 0 {
		md := sd.MediaDescriptions[0]
		p.Media = md.MediaName.Media
		p.Mid, _ = md.Attribute("mid")
		if v, ok := md.Attribute("ice-ufrag"); ok {
			p.Ufrag = v
		}
		if v, ok := md.Attribute("ice-pwd"); ok {
			p.Pwd = v
		}
		for _, a := range md.Attributes {
			if a.Key == "candidate" {
				p.Candidates = append(p.Candidates, "candidate:"+a.Value)
			}
		}
	}
	return p, nil
}

// fmtpParams splits an a=fmtp value into its parameters.
func fmtpParams(line string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			m[strings.ToLower(k)] = v
		}
	}
	return m
}

// matchCodec picks, among a viewer's negotiated codecs, the one that
// carries a publisher's track unchanged: same codec and, for H.264, the
// same packetization mode and a profile that decodes the stream.
func matchCodec(src TrackInfo, offered []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var same []webrtc.RTPCodecParameters
	for _, c := range offered {
		if strings.EqualFold(c.MimeType, src.MimeType) && c.ClockRate == src.ClockRate {
			same = append(same, c)
		}
	}
	if len(same) == 0 {
		return webrtc.RTPCodecParameters{}, false
	}
	if !strings.EqualFold(src.MimeType, webrtc.MimeTypeH264) {
		return same[0], true
	}
	sp := fmtpParams(src.Fmtp)
	mode := func(m map[string]string) string {
		if v := m["packetization-mode"]; v != "" {
			return v
		}
		return "0"
	}
	srcProfile, _ := hex.DecodeString(sp["profile-level-id"])
	// Constrained baseline (profile_idc 66 with constraint_set1) decodes in
	// any H.264 decoder.
	constrainedBaseline := len(srcProfile) >= 2 && srcProfile[0] == 0x42 && srcProfile[1]&0x40 != 0
	var fallback *webrtc.RTPCodecParameters
	for i, c := range same {
		cp := fmtpParams(c.SDPFmtpLine)
		if mode(cp) != mode(sp) {
			continue
		}
		prof, _ := hex.DecodeString(cp["profile-level-id"])
		if len(srcProfile) >= 2 && len(prof) >= 2 && prof[0] == srcProfile[0] && prof[1] == srcProfile[1] {
			return c, true
		}
		if fallback == nil && (constrainedBaseline || len(srcProfile) < 2 ||
			len(prof) >= 2 && prof[0] == srcProfile[0]) {
			fallback = &same[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}
