package source

import (
	"context"
	"log/slog"
)

// Source is something the agent runs: a camera, a microphone, a clip or a speaker.
type Source interface {
	Run(ctx context.Context) error
}

// MicrophoneOptions configure a microphone source.
type MicrophoneOptions struct {
	Input    string // capture device name or part of it (as drivers/audio matches); "" the default
	Backend  string // malgo backend name (as drivers/audio's backend option); "" the platform's
	Channels int    // 1 (default) or 2
	Bitrate  int    // Opus bits a second; default 32000 a channel
	Publish  Endpoint
	Logger   *slog.Logger
}

// SpeakerOptions configure a speaker.
type SpeakerOptions struct {
	Output  string // playback device name or part of it; "" the default
	Backend string // malgo backend name; "" the platform's
	View    Endpoint
	Logger  *slog.Logger
}
