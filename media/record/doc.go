// Package record writes a room's published tracks to tamper-evident,
// crash-safe recordings: the recorder is just another downstream of the SFU,
// which hands it each track's RTP packets (Opus, VP8, H.264, never
// transcoded).
//
// # Use
//
//	key, err := record.LoadOrCreateKey(filepath.Join(dataDir, "keys", "recording.key"))
//	rec, err := record.Start(record.Options{Dir: dir, Key: key, Site: site, Room: room,
//		OnError: func(err error) { raiseAlarm(err) }})
//	tw, err := rec.AddTrack(record.Track{ID: "cam1", MimeType: "video/H264",
//		RequestKeyframe: sendPLI})
//	tw.WriteRTP(pkt)             // from the forwarding loop; never blocks
//	rec.Mark("privacy-start", "") // markers go into the manifest
//	rec.Close()
//
// # What a recording directory holds
//
// One WebM file per track per segment, "<track>-<index>.webm" (index from
// 000000), and manifest.jsonl. Segments are cut at the first keyframe (any
// frame, for audio) once Options.SegmentDuration (10 minutes) has passed,
// and when a keyframe brings a new codec configuration (picture size, SPS
// or PPS). A video segment always starts with a keyframe.
//
// Segment files are WebM as browsers play it: VP8 (V_VP8), H.264
// (V_MPEG4/ISO/AVC, with the avcC from the stream's SPS and PPS as
// CodecPrivate; Chromium plays it) and Opus (A_OPUS with an OpusHead),
// written by ebml-go's block writer. The Segment and every Cluster have
// unknown sizes, so a file cut anywhere is still a valid stream up to its
// last whole block; when a segment closes, Cues (into space reserved for
// them) and the Duration are written into its header. Every block reaches
// the kernel as it is written, so a kill -9 of the hub loses only what
// was still queued (milliseconds); every open segment is fsynced every
// Options.FlushInterval (500 ms), which bounds what a power cut loses.
//
// # Depacketizing
//
// pion's sample builder reorders packets and drops incomplete frames; a
// gap waits for about a second of packets (256 video, 50 audio) for a late
// or retransmitted packet. After a loss a video track skips frames until
// the next keyframe (and asks for one with Track.RequestKeyframe, at most
// once a second), so what is written always decodes. A new SSRC or a jump
// in sequence numbers starts the depacketizer over; RTP timestamps are
// unwrapped into milliseconds and follow the wall clock across jumps of
// more than 5 s. B-frames are not supported (WebRTC does not send them).
// WriteRTP copies the packet into a bounded queue (Options.QueueSize); a
// packet that finds it full is dropped and counted (TrackWriter.Stats).
//
// # The manifest
//
// manifest.jsonl is append-only, one JSON object a line (Entry), each
// written with one write and fsynced:
//
//	header   recording id, site, room, start, the public key and its fingerprint (key_id)
//	track    a track was added: id, kind, codec, clock rate, channels
//	open     a segment file is about to be written
//	segment  a segment is finished: file, start/end, duration, frames, bytes, sha256
//	marker   a marker: kind ("note", "privacy-start", "privacy-end", …) and text
//	end      the recording ended (with the error that stopped it, if one did)
//
// Each line carries "seq" (its position), "prev" (the hex SHA-256 of the
// whole previous line: a hash chain) and, last, "sig": the hub key's
// ed25519 signature over "bailiff-record-manifest-v1\x00" followed by the
// line without its signature member. Verify checks the chain, every
// signature, and every sealed segment's size and hash, and reports files
// that are changed, missing, extra, or that hold another segment's bytes
// (reordered), lines removed, inserted or moved (chain), forged or edited
// (signature), and a key other than the expected one. The chain cannot
// show lines cut off its end; Recorder.Head and Report.Head give the hash
// of the last line, for the hub to keep in its audit log.
//
// # Crashes and full disks
//
// A crash leaves the segments being written without a "segment" entry and
// the manifest without an "end": Verify calls that ProblemUnsealed /
// ProblemNotClosed, not tampering (Report.Crashed). Recover, run by the hub
// at its next start for each recording that was open, hashes those files
// as they stand, seals them with "recovered": true, and appends an end
// entry; it refuses a recording that shows more than a crash. A recording
// that goes on after the restart is a new recording (Options.Previous
// names the one it continues).
//
// A write error (a full disk) stops the whole recording: Options.OnError is
// called once, each track closes its segment (sealing it, with the error,
// if the manifest can still be written) and WriteRTP fails from then on.
// Files already sealed are never opened for writing again, and a manifest
// append that fails is cut back off, so nothing sealed is damaged; once
// there is space again, Recover seals what was left open.
//
// # Keys
//
// The hub signs with one ed25519 key (LoadOrCreateKey: PEM PKCS #8, mode
// 0600). The keyring file (LoadKeyring, AddToKeyring: PEM public keys) keeps
// the public half of every key the hub has used; VerifyWithKeyring picks
// the key a manifest's header names. To rotate: stop the hub, move the key
// file away (keep it offline or destroy it), start the hub: it makes a new
// key, adds its public half to the keyring, and signs new recordings with
// it; recordings made before still verify with their old public key from
// the keyring. A key that may have leaked is rotated the same way, and its
// fingerprint noted in the audit log with the time: recordings signed with
// it after that time are suspect.
package record
