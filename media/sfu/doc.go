// Package sfu is the hub's selective forwarding unit: publishers' tracks
// (Opus, VP8, H.264; never transcoded) forwarded to any number of
// downstreams: WHEP viewers, the recorder, anything that implements Sink.
// The HTTP side (WHIP, WHEP) is package media/whip; this package speaks
// SDP offers and answers and ICE, on pion/webrtc v4.
//
// # Model
//
// A Stream is keyed by site, room and name (Key). SFU.Publish answers a
// publisher's offer and makes its stream; a new publisher of a key
// replaces the stream before it, whose downstreams see it end. Each of
// the publisher's tracks becomes a Track, named by kind and place
// ("audio0", "video0"): one goroutine reads it and hands every packet to
// each Sink attached to it, in order, without copying. A Downstream is
// offered every track of a stream, now and later (Stream.Attach); viewers
// are Downstreams exactly like the recorder:
//
//	cancel := s.Watch(func(st *sfu.Stream) { // every stream, now and later
//		if !recording(st.Key()) {
//			return
//		}
//		st.Attach(sfu.DownstreamFunc(func(t *sfu.Track) (sfu.Sink, error) {
//			i := t.Info()
//			return rec.AddTrack(record.Track{ID: st.Key().Name + "-" + i.ID,
//				MimeType: i.MimeType, ClockRate: i.ClockRate, Channels: i.Channels,
//				RequestKeyframe: t.RequestKeyframe})
//		}))
//	})
//
// *record.TrackWriter is a Sink: WriteRTP never blocks, and its Close (the
// SFU closes a sink that has one when its track ends) seals its segment.
//
// # Viewers
//
// SFU.View answers a viewer's offer with each of the stream's tracks its
// offer can receive in the publisher's codec (a track whose codec the
// viewer lacks is left out; none at all is ErrNoCodec). A viewer joins
// the stream when its peer connection connects: a keyframe is asked for
// then. Viewers are shared among fan-out workers, one per processor
// (Options.WriteWorkers; fanout.go): each packet of a track is one job
// for each worker with viewers of it, which writes it to its viewers in
// turn (audio jobs first). A write never waits for its viewer (it
// encrypts and sends a datagram; a congested path or a viewer that stops
// reading loses datagrams on the way), so a slow viewer slows nobody; a
// worker whose queue (Options.ViewerQueue packets) is full drops the
// packet for its viewers, counted in Session.Stats. Packets keep the
// publisher's sequence numbers and timestamps; the viewer's own SSRC and
// payload type are set, header extensions dropped.
//
// On the shared UDP port (Options.Network.UDPAddr), a viewer's RTP takes
// the fast path (fastpath.go): the hub notes the secrets of the viewer's
// DTLS handshake (it answers as the DTLS server, with
// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), derives its SRTP keys as the
// DTLS-SRTP exporter does, encrypts each packet straight into the port's
// send queue and addresses it to the selected ICE candidate; ICE, DTLS
// and RTCP stay with pion. On per-session ports, or should the secrets be
// missing, the packets go through pion's SRTP session as usual.
//
// # RTCP
//
// Publishers' peer connections run pion's NACK generator, receiver
// reports and TWCC feedback (the publisher's congestion control sees the
// hub's uplink). Each viewer answers NACKs itself from the latest
// Options.NACKBuffer packets of each video track it was sent (pointers to
// the forwarded packets, which are never changed), and sends a sender
// report for each track every second. Viewers' PLIs and FIRs, a joining viewer
// and Track.RequestKeyframe (the recorder) ask the publisher for a
// keyframe with a PLI, at most once per Options.KeyframeInterval a track.
// RTX, RED, FEC and simulcast are not negotiated.
//
// # Program and privacy
//
// SFU.NewProgram makes a room's program stream: a Stream with no
// publisher whose video is one of the room's camera streams and whose
// audio is its microphone stream, taken as a Downstream of each.
// Program.Switch cuts to another camera on its next keyframe (asked for
// at once); SSRCs, sequence numbers and timestamps are rewritten so that
// its downstreams see one continuous track. SFU.SetMuted replaces the
// payload of the named streams' audio packets with Opus silence of the
// same duration towards every downstream (a bench conference).
//
// # Sessions and limits
//
// Each Publish or View makes a Session. It ends when the peer goes (DTLS
// close, ICE failure), when it has not connected within
// Options.ConnectTimeout, when its stream ends (a viewer), or on
// Session.Close, which returns when its peer connection and goroutines are
// gone. Offers are checked before pion sees them (MaxSDP bytes,
// MaxMediaSections, mids, credentials, fingerprint, direction) and are
// answered with every candidate (gathering is bounded by
// Options.GatherTimeout). Options.MaxViewers bounds a stream's viewers.
// ICE restarts come as new credentials (Session.RestartICE, for a WHIP
// PATCH), trickled candidates through Session.AddICECandidate.
//
// # Network
//
// Options.Network says where ICE listens: one UDP port for every session
// (UDPAddr: "127.0.0.1:0" in tests, ":8189" in production) or a port
// range; NAT1To1IPs for a hub behind a 1:1 NAT; Interfaces to restrict
// gathering; RemoteIPFilter to refuse remote candidates (tests allow
// loopback only, so a hostile candidate never makes the hub send a
// packet off the machine). mDNS is off: a browser's hidden address is
// learnt from its connectivity checks.
//
// # Replicas
//
// With Options.Upstream set, the SFU is a replica for the streams whose
// room another hub (their origin) carries: View of such a stream that is
// not here starts a pull, a session with the origin in which this SFU is a
// receive-only viewer (Upstream.Exchange carries the offer and answer; in
// the hub, package whip over WHEP). The origin's tracks become a Stream
// with no publisher, which any number of viewers join; viewers that come
// while it starts wait for the same pull. A viewer's PLI becomes a PLI to
// the origin, whose viewer session passes it to the publisher. The pull
// stops Options.PullLinger after the last viewer left. When the origin
// ends the session (its publisher went or was replaced), the SFU pulls
// again for up to Options.PullRetry, its viewers staying connected: the new
// session's packets continue the same tracks, sequence numbers and
// timestamps rewritten to follow on, its video from the first keyframe
// (asked for at once). Watch
// does not show pulled streams (the origin records them and makes its
// program); StreamInfo.Origin names the origin; Stats counts Pulls.
//
// Subpackage sfutest has what tests need: clips encoded by ffmpeg, and
// pion publishers and viewers that run on loopback only.
package sfu
