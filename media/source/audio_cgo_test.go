//go:build cgo && nolibopusfile

package source

import (
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/audio"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// A microphone (fed by the audio driver's synthesiser, as a sound card would feed it) is
// encoded to Opus and published; a speaker on miniaudio's null backend views it over WHEP,
// decodes it and plays it.
func TestMicrophoneToSpeaker(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	mic, err := newMicrophone(MicrophoneOptions{Publish: h.endpoint(t, "mics"), Logger: quiet()}, func() (audio.Source, error) {
		return audio.NewSynth(audio.SignalTone, audio.Format{SampleRate: 48000, Channels: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer start(mic)()
	v := h.view(t, "mics", sfutest.ViewerOptions{NoVideo: true})
	waitFor(t, 10*time.Second, "Opus at a viewer", func() bool { return v.Packets("audio") > 20 })
	if c := v.Codec("audio"); c != "audio/opus" {
		t.Errorf("codec %q", c)
	}

	ep := h.endpoint(t, "mics")
	ep.URL = h.url("/whep/court/r1/mics")
	sp, err := newSpeaker(SpeakerOptions{Backend: "null", View: ep, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer start(sp)()
	waitFor(t, 10*time.Second, "the speaker decodes and plays the tone", func() bool {
		return sp.Decoded.Load() > 20 && sp.Played.Load() > 48000/10
	})
}

func TestMicrophoneOptions(t *testing.T) {
	if _, err := NewMicrophone(MicrophoneOptions{Channels: 3, Publish: Endpoint{URL: "http://x/whip/a/b/c"}}); err == nil {
		t.Error("3 channels accepted")
	}
	if _, err := NewSpeaker(SpeakerOptions{}); err == nil {
		t.Error("a speaker without an endpoint")
	}
}

// The real capture path: miniaudio's null backend, whose capture device delivers silence in
// real time, through Opus to a viewer.
func TestMicrophoneNullBackend(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	src, err := NewMicrophone(MicrophoneOptions{Backend: "null", Channels: 2, Publish: h.endpoint(t, "mic"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer start(src)()
	v := h.view(t, "mic", sfutest.ViewerOptions{NoVideo: true})
	waitFor(t, 10*time.Second, "Opus from the null capture device at a viewer", func() bool { return v.Packets("audio") > 20 })
	if n := src.(*microphone).Packets.Load(); n < 20 {
		t.Errorf("%d packets encoded", n)
	}
}
