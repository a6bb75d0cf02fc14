// Package clips holds small looping media clips for the demo, the simulators and tests, and a
// Player that turns a clip into RTP in real time, forever.
//
// The clips are 2 s of ffmpeg's testsrc2 picture (320x240, 15 frames a second, a keyframe
// every second) and a 440 Hz tone:
//
//	files/h264.264  H.264 constrained baseline, Annex B, SPS and PPS before every IDR (~80 KB)
//	files/vp8.ivf   VP8 in IVF (~75 KB)
//	files/opus.ogg  Opus, stereo, 20 ms packets, one a page (~14 KB)
//
// They were made once with Debian's ffmpeg by files/gen.sh (`go generate ./media/clips`) and
// are committed, so nothing needs ffmpeg at run time.
//
// A Player packetises a clip's frames (RFC 6184 for H.264: single NAL units, STAP-A for SPS
// and PPS before each IDR, FU-A for larger NAL units; RFC 7741 for VP8; RFC 7587 for Opus),
// with sequence numbers and timestamps that run on across loops, and paces them in real time.
package clips

//go:generate sh files/gen.sh
