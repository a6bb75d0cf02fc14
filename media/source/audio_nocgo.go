//go:build !cgo || !nolibopusfile

package source

// NewMicrophone needs cgo and libopus, built with -tags nolibopusfile (Debian has libopus-dev
// but no libopusfile); this build has not both.
func NewMicrophone(MicrophoneOptions) (Source, error) { return nil, ErrNeedsCgo }

// NewSpeaker needs cgo and libopus, built with -tags nolibopusfile; this build has not both.
func NewSpeaker(SpeakerOptions) (Source, error) { return nil, ErrNeedsCgo }
