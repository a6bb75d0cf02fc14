package rtsp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// The seed corpora are in testdata/fuzz; these add the golden messages of the tests.

func FuzzResponse(f *testing.F) {
	f.Add([]byte("RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n"))
	f.Add([]byte("RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm=\"cam\", nonce=\"abc\", qop=\"auth\"\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := ReadResponse(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if resp.Status < 100 || resp.Status > 599 || len(resp.Body) > MaxBodyBytes {
			t.Fatalf("accepted %d with %d body bytes", resp.Status, len(resp.Body))
		}
		again, err := ReadResponse(bufio.NewReader(bytes.NewReader(resp.Bytes())))
		if err != nil || again.Status != resp.Status || !bytes.Equal(again.Body, resp.Body) {
			t.Fatalf("re-read of a rendered response: %v", err)
		}
		var a authorizer
		a.user, a.pass = "u", "p"
		if a.pick(resp.Header["www-authenticate"]) == nil && a.header("DESCRIBE", "rtsp://x/y") == "" {
			t.Fatal("a picked challenge gave no Authorization")
		}
		_, _ = parseSession(resp.Header.Get("Session"))
	})
}

func FuzzInterleaved(f *testing.F) {
	f.Add([]byte("$\x00\x00\x0c\x80\x60\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n"))
	f.Add([]byte("xx$\x01\x00\x04\x80\xc8\x00\x00GET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for range 1000 {
			m, err := r.Next()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				// Errors reading a body or a frame are I/O errors of the truncated input.
				return
			}
			if m.Frame != nil && (len(m.Frame.Payload) < 4 || m.Frame.Payload[0]>>6 != 2) {
				t.Fatalf("frame that is not RTP/RTCP: % x", m.Frame.Payload[:min(8, len(m.Frame.Payload))])
			}
		}
	})
}

func FuzzSDP(f *testing.F) {
	f.Add([]byte(string(sdpOf(nil)) + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f;sprop-parameter-sets=Z0LAHtkA,aM4xsg==\r\na=control:trackID=0\r\n"))
	f.Add([]byte("v=0\r\nm=audio 0 RTP/AVP 0 8\r\na=control:rtsp://cam/x/track2\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseSDP(b)
		if err != nil {
			return
		}
		if len(d.Media) > MaxMedia {
			t.Fatalf("%d media", len(d.Media))
		}
		for _, m := range d.Media {
			if len(m.SPS) > MaxParamSetBytes || len(m.PPS) > MaxParamSetBytes {
				t.Fatal("parameter set over the bound")
			}
			if m.ProfileLevelID != "" && len(m.ProfileLevelID) != 6 {
				t.Fatalf("profile-level-id %q", m.ProfileLevelID)
			}
		}
	})
}
