// Package source is the agent's side of the media path: it publishes a room's cameras,
// microphones and looping clips to the hub over WHIP, and plays streams the hub carries out
// of the room's speakers over WHEP.
//
//   - Camera: RTSP pull of an IP camera's H.264 (package media/rtsp) → WHIP, with no
//     transcoding; only what WebRTC needs is rewritten (parameter sets before an IDR,
//     packets too large for a WebRTC path split into FU-A, sequence numbers and timestamps
//     that run on across camera reconnects).
//   - Clip: a looping bundled clip (package media/clips) → WHIP, for the demo and tests.
//   - Microphone: malgo capture → Opus (gopkg.in/hraban/opus.v2) → WHIP. Needs cgo.
//   - Speaker: WHEP view of a stream → Opus decoding → malgo playback. Needs cgo.
//
// A build without cgo has Camera and Clip; NewMicrophone and NewSpeaker then fail with
// ErrNeedsCgo.
//
// # WHIP and WHEP client
//
// Publisher (and the viewer a Speaker uses) follows RFC 9725: it posts an SDP offer with
// every ICE candidate gathered (no trickle) and a Bearer token, takes the 201's answer and
// Location, and DELETEs the Location when it stops. When the hub goes away or the peer
// connection fails it connects again with a backoff (Endpoint.MinBackoff doubling up to
// MaxBackoff, with jitter); a refusal (a 4xx such as 401, 403 or 404) waits the longest
// backoff and is logged with the hub's JSON error code and message (HTTPError). Tracks
// outlive sessions, so a source writes to them whether or not a session is up. The ICE
// servers (STUN, TURN) the hub names in its answer's Link headers are used from the next
// attempt on (the offer of the first is made before the hub names them).
package source
