// Package rtsp is a small RTSP 1.0 client and server (RFC 2326, with facts from RFC 7826
// where cameras follow them) for the agent's camera path: pull H.264 (and optionally Opus)
// RTP from an IP camera, and serve looping clips for simulators and tests.
//
// It is written here rather than taken from github.com/bluenviron/gortsplib, which the
// project's issue names, because this build's module proxy does not serve gortsplib (every
// version answers 403). It implements only what a camera pull needs.
//
// # Client
//
// Dial connects; Describe sends OPTIONS and DESCRIBE and parses the SDP (H.264 with its
// sprop-parameter-sets and profile, and any audio); Setup asks for each wanted media with
// RTP/AVP/TCP interleaved (the default; RFC 2326 §10.12) or RTP/AVP over UDP; Play starts
// the stream and Run reads it, calling back with each RTP packet, sending a keep-alive
// (GET_PARAMETER when the server offers it, else OPTIONS) at half the session's timeout
// (RFC 2326 §12.37), and answering a camera's own requests. Close sends TEARDOWN.
//
// Credentials come from the URL's user info; a 401 is answered once with Digest (RFC 2617,
// MD5, with or without qop=auth) or Basic, Digest preferred. Credentials are never logged and
// URLs are shown without them (Redact).
//
// # Limits
//
// Every size is bounded: a message head (status line and headers) to MaxHeadBytes and
// MaxHeaders lines, a body to MaxBodyBytes, an SDP to MaxMedia media and its parameter sets
// to MaxParamSetBytes each; an interleaved frame is at most 65535 bytes by its framing. The
// interleaved reader resynchronises on garbage: bytes that start neither a '$' frame of an
// expected channel carrying RTP/RTCP version 2 nor an RTSP message are skipped. Every read
// has a deadline (Options.Timeout), so a camera that stops mid-stream ends Run with an error.
//
// # Server
//
// Server serves one or more paths, each a looping clip (package media/clips): H.264 packed
// per RFC 6184 (single NAL units, STAP-A for SPS and PPS before each IDR, FU-A for large
// NAL units) and optionally Opus, over TCP interleaved or UDP, with Basic or Digest
// authentication when a user is set. It can be told to misbehave (Garbage, Stall) or to drop
// every session (DropSessions), for tests of the client and of the agent.
package rtsp
