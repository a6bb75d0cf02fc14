package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/media/clips"
	"github.com/bailiff/bailiff/media/source"
)

// MediaToken is the Bearer token an agent publishes and views media with:
// "agent.{site}.{room}.{secret}", the secret being its MQTT password (IDs hold no dots).
func MediaToken(site, room, secret string) string {
	return "agent." + site + "." + room + "." + secret
}

// mediaSource is one source the agent runs.
type mediaSource struct {
	name string // stream name, or "speaker:{room}/{stream}"
	kind string
	key  string // what it was made from (its config and hub URL): equal keys, same source
	src  source.Source

	cancel context.CancelFunc // set while it runs
	done   chan struct{}      // closed when Run returns
}

// newMedia makes room r's media sources: each stream published to
// {hub}/whip/{site}/{room}/{name}, each speaker fed from {hub}/whep/{site}/{room}/{stream}.
// A source this build cannot run (a microphone or speaker without cgo) is left out with an
// error in the log: the room's devices and its other streams still run. A source of keep
// whose key is unchanged is taken over instead of made anew.
func (a *Agent) newMedia(r *config.Room, keep []*mediaSource) ([]*mediaSource, error) {
	m := r.Media
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
	running := map[string]*mediaSource{}
	for _, ms := range keep {
		running[ms.key] = ms
	}
	keyOf := func(what string, v any) string {
		b, _ := json.Marshal(v)
		return what + " " + hub + " " + string(b)
	}
	var out []*mediaSource
	for _, s := range m.Streams {
		key := keyOf("stream", s)
		if ms := running[key]; ms != nil {
			out = append(out, ms)
			continue
		}
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
		out = append(out, &mediaSource{name: s.Name, kind: s.Kind(), key: key, src: src})
	}
	for _, sp := range m.Speakers {
		key := keyOf("speaker", sp)
		if ms := running[key]; ms != nil {
			out = append(out, ms)
			continue
		}
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
		out = append(out, &mediaSource{name: "speaker:" + room + "/" + sp.Stream, kind: "speaker", key: key, src: src})
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

// startMedia runs every source of list that is not running yet, until ctx ends or it is
// stopped (stopMedia); a.mediaRun counts them.
func (a *Agent) startMedia(ctx context.Context, list []*mediaSource) {
	for _, m := range list {
		if m.done != nil {
			continue
		}
		mctx, cancel := context.WithCancel(ctx)
		m.cancel, m.done = cancel, make(chan struct{})
		a.mediaRun.Add(1)
		go func() {
			defer a.mediaRun.Done()
			defer close(m.done)
			a.log.Info("media source starting", "stream", m.name, "kind", m.kind)
			if err := m.src.Run(mctx); err != nil {
				a.log.Error("media source stopped", "stream", m.name, "error", err)
			}
		}()
	}
}

// stopMedia stops the running sources of old that next does not hold, and waits for them
// (a publisher deletes its session on the hub as it stops). It returns their names.
func stopMedia(old, next []*mediaSource) []string {
	var stopped []*mediaSource
	for _, m := range old {
		if m.done != nil && !slices.Contains(next, m) {
			m.cancel()
			stopped = append(stopped, m)
		}
	}
	names := []string{}
	for _, m := range stopped {
		<-m.done
		names = append(names, m.name)
	}
	return names
}
