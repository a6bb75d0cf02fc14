// Package whip serves WHIP ingest (RFC 9725) and WHEP playback
// (draft-ietf-wish-whep) for the hub, on top of package media/sfu.
//
// # Endpoints
//
//	POST    /whip/{site}/{room}/{stream}        application/sdp offer → 201, answer, Location, ETag, Link
//	POST    /whep/{site}/{room}/{stream}        the same for a viewer
//	PATCH   /wh{i,e}p/{site}/{room}/{stream}/{session}   application/trickle-ice-sdpfrag
//	DELETE  /wh{i,e}p/{site}/{room}/{stream}/{session}   → 200, the session ends
//	OPTIONS either                               → 204 with Allow, Accept-Post / Accept-Patch, CORS
//
// A Server is one http.Handler for both prefixes:
//
//	srv, err := whip.New(whip.Options{SFU: s, Authorizer: hubAuth,
//		ICEServers: []webrtc.ICEServer{{URLs: []string{"stun:hub.example:3478"}}}})
//	mux.Handle("/whip/", srv)
//	mux.Handle("/whep/", srv)
//
// # Authorization
//
// Every POST, PATCH and DELETE calls Authorizer.Authorize(r, site, room,
// stream, publish): the hub checks the Bearer token (agents and invited
// parties publish only to their own room; judges, monitors and invited
// parties view what their role allows). An error wrapping
// ErrUnauthorized answers 401 with a Bearer challenge; any other error
// 403. OPTIONS carries no credentials and is not authorized. A session
// URL holds a random 128-bit ID and is only found under the endpoint
// that made it.
//
// # PATCH (RFC 9725 §4.3)
//
// A fragment whose ice-ufrag/ice-pwd are the peer's current ones (or that
// has none) trickles candidates: 204. If-Match may carry the session's
// ETag; any other entity-tag answers 412 (an out-of-order PATCH of an
// earlier ICE session). New credentials restart ICE: If-Match is
// required (428 without; "*" or the current ETag), the hub restarts ICE
// with the media as negotiated and answers 200 with its own new
// credentials and candidates as a trickle-ice-sdpfrag and a new ETag.
//
// # Errors
//
// Errors are JSON {"error":{"code","message"}}: 400 bad_sdp (a malformed
// offer, or one that sends nothing to WHIP or receives nothing from
// WHEP; simulcast), 400 bad_fragment, 401, 403, 404 not_found (an unknown
// stream for WHEP, an unknown session, a path whose names are not
// [a-z0-9][a-z0-9-]{0,62}), 405 with Allow, 412, 413 too_large (a body
// over Options.MaxBody, 64 KiB), 415 with Accept-Post or Accept-Patch,
// 422 no_codec, 428, and 503 unavailable with Retry-After (more than
// Options.MaxSessions sessions, a stream whose publisher has sent nothing
// yet, too many viewers, shutting down), and, on a replica, 502 upstream
// when the stream's origin refused or failed the pull (the message names
// the origin and its answer).
//
// # Replicas
//
// Upstream is a replica hub's WHEP client: an sfu.Upstream that sends the
// replica's receive-only offer for a stream to the origin hub carrying its
// room (Origin: a URL, rooms "site/room" or "site/*", and the token the
// origin gave, "replica.{secret}"), checks the reply (ReadAnswer: a 201 SDP
// answer with media and a session URL on the origin's host), and DELETEs
// the session at the origin when the pull ends. Set it as
// sfu.Options.Upstream.
//
// # Limits
//
// Bodies are bounded (MaxBody), sessions counted (MaxSessions, those
// being set up included), each session's life bounded (MaxLifetime, and
// sfu's ConnectTimeout for one that never connects), a request's work
// bounded (RequestTimeout), a fragment to 64 candidates and a session to
// MaxCandidatesPerSession. Every error path closes the peer connection it
// made; FuzzWHIPOffer and FuzzTrickle check that no session is left.
//
// ICE servers go to clients in Link headers (RFC 9725 §4.6); set
// Options.ICEServersFor to hand out short-lived TURN credentials.
package whip
