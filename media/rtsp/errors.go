package rtsp

import (
	"errors"
	"fmt"
)

// Errors the client returns (wrapped).
var (
	ErrUnauthorized = errors.New("rtsp: unauthorized (401): wrong or missing credentials")
	ErrNotFound     = errors.New("rtsp: not found (404)")
	ErrNoH264       = errors.New("rtsp: the stream has no H.264 video")
	ErrTooLarge     = errors.New("rtsp: message too large")
	ErrMalformed    = errors.New("rtsp: malformed message")
	ErrClosed       = errors.New("rtsp: connection closed")
)

// StatusError is a response with a status the client did not want.
type StatusError struct {
	Method string
	Status int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("rtsp: %s: %d %s", e.Method, e.Status, e.Reason)
}

// Unwrap lets errors.Is match ErrUnauthorized and ErrNotFound.
func (e *StatusError) Unwrap() error {
	switch e.Status {
	case 401:
		return ErrUnauthorized
	case 404:
		return ErrNotFound
	}
	return nil
}
