package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/media/clips"
	"github.com/bailiff/bailiff/media/source"
)

// MediaToken is the Bearer token an agent publishes and views media with:
// "agent.{site}.{room}.{secret}", the secret being its MQTT password (IDs hold no dots).
func MediaToken(site, room, secret string) string {
	return "agent." + site + "." + room + "." + secret
}

// mediaSource is one source the agent runs, for logs and tests.
type mediaSource struct {
	name string // stream name, or "speaker:{room}/{stream}"
	kind string
	src  source.Source
}

// newMedia makes the room's media sources: each stream published to
// {hub}/whip/{site}/{room}/{name}, each speaker fed from {hub}/whep/{site}/{room}/{stream}.
// A source this build cannot run (a microphone or speaker without cgo) is left out with an
// error in the log: the room's devices and its other streams still run.
func (a *Agent) newMedia() ([]mediaSource, error) {
	m := a.o.Room.Media
	if len(m.Streams) == 0 && len(m.Speakers) == 0 {
		return nil, nil
	}
	hub := strings.TrimRight(a.o.HubURL, "/")
	if hub == "" {
		hub = strings.TrimRight(m.Hub, "/")
	}
	if hub == "" {
		return nil, errors.New("agent: media: the room has streams but no hub URL: set media.hub in the room config or --hub")
	}
	token := MediaToken(a.site, a.room, a.o.Password)
	ep := func(kind, room, stream string) source.Endpoint {
		e := a.o.MediaEndpoint
		e.URL = hub + "/" + kind + "/" + a.site + "/" + room + "/" + stream
		e.Token = token
		return e
	}
	var out []mediaSource
	for _, s := range m.Streams {
		log := a.log.With("stream", s.Name)
		var src source.Source
		var err error
		switch s.Kind() {
		case config.StreamCamera:
			c := s.Camera
			src, err = source.NewCamera(source.CameraOptions{
				RTSP: c.RTSP, Transport: c.Transport, NoAudio: c.Audio == "off",
				Publish: ep("whip", a.room, s.Name), Logger: log,
			})
		case config.StreamClip:
			src, err = source.NewClip(source.ClipOptions{
				Video: clipCodec(s.Clip.Video, clips.H264), Audio: clipCodec(s.Clip.Audio, clips.Opus),
				Publish: ep("whip", a.room, s.Name), Logger: log,
			})
		case config.StreamMicrophone:
			ch, _ := strconv.Atoi(s.Microphone.Channels)
			src, err = source.NewMicrophone(source.MicrophoneOptions{
				Input: s.Microphone.Input, Backend: s.Microphone.Backend, Channels: ch,
				Publish: ep("whip", a.room, s.Name), Logger: log,
			})
		default:
			err = errors.New("no camera, microphone or clip")
		}
		if errors.Is(err, source.ErrNeedsCgo) {
			// The room's devices still run; this stream cannot, in this build.
			log.Error("media stream left out", "kind", s.Kind(), "error", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("agent: media stream %q: %w", s.Name, err)
		}
		out = append(out, mediaSource{name: s.Name, kind: s.Kind(), src: src})
	}
	for _, sp := range m.Speakers {
		room := sp.Room
		if room == "" {
			room = a.room
		}
		src, err := source.NewSpeaker(source.SpeakerOptions{
			Output: sp.Output, Backend: sp.Backend, View: ep("whep", room, sp.Stream),
			Logger: a.log.With("speaker", room+"/"+sp.Stream),
		})
		if errors.Is(err, source.ErrNeedsCgo) {
			a.log.Error("media speaker left out", "speaker", room+"/"+sp.Stream, "error", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("agent: media speaker for %s/%s: %w", room, sp.Stream, err)
		}
		out = append(out, mediaSource{name: "speaker:" + room + "/" + sp.Stream, kind: "speaker", src: src})
	}
	return out, nil
}

// clipCodec maps a config clip name to a clips codec ("" for none).
func clipCodec(v, def string) string {
	switch v {
	case "":
		return def
	case "none":
		return ""
	case "h264":
		return clips.H264
	case "vp8":
		return clips.VP8
	}
	return clips.Opus
}

// runMedia runs every media source until ctx ends.
func (a *Agent) runMedia(ctx context.Context, wg *sync.WaitGroup) {
	for _, m := range a.media {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.log.Info("media source starting", "stream", m.name, "kind", m.kind)
			if err := m.src.Run(ctx); err != nil {
				a.log.Error("media source stopped", "stream", m.name, "error", err)
			}
		}()
	}
}
