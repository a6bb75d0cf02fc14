package sfu

import "errors"

// Errors that Publish, View, Attach and the sessions return. They are
// wrapped with what failed; test them with errors.Is.
var (
	// ErrBadOffer: the SDP offer is malformed, too large, or not one this
	// side can answer (a WHIP offer with nothing to send, a WHEP offer with
	// nothing to receive, simulcast). The HTTP layer answers 400.
	ErrBadOffer = errors.New("sfu: bad offer")
	// ErrNoCodec: the offer shares no codec with the hub (publisher), or the
	// viewer cannot receive a codec the stream is sent in. HTTP 422.
	ErrNoCodec = errors.New("sfu: no codec in common")
	// ErrBadKey: a site, room or stream name that is not [a-z0-9][a-z0-9-]{0,62}.
	ErrBadKey = errors.New("sfu: bad stream key")
	// ErrNoStream: nobody publishes that stream. HTTP 404.
	ErrNoStream = errors.New("sfu: no such stream")
	// ErrNotReady: the stream's publisher has not sent media yet. HTTP 503.
	ErrNotReady = errors.New("sfu: stream has no tracks yet")
	// ErrTooManyViewers: the stream has Options.MaxViewers viewers. HTTP 503.
	ErrTooManyViewers = errors.New("sfu: too many viewers")
	// ErrBadCandidate: a trickled ICE candidate does not parse. HTTP 400.
	ErrBadCandidate = errors.New("sfu: bad ICE candidate")
	// ErrUpstream: a replica could not pull a stream from its origin hub (the
	// origin refused the replica's credential, could not be reached, or sent
	// no media). HTTP 502.
	ErrUpstream = errors.New("sfu: the origin hub did not give the stream")
	// ErrClosed: the SFU, stream or session is closed.
	ErrClosed = errors.New("sfu: closed")
)
