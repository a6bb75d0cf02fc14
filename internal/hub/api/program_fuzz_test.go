package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/wire"
)

// FuzzProgramRequest: any body is either refused with a one-line reason, or accepted with
// something to do and a camera that is a stream name.
func FuzzProgramRequest(f *testing.F) {
	f.Add([]byte(`{"follow":true}`))
	f.Add([]byte(`{"follow":false,"camera":"bench-cam"}`))
	f.Add([]byte(`{"camera":"Bench Cam"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseProgramRequest(bytes.NewReader(body))
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		if req.Follow == nil && req.Camera == "" {
			t.Fatalf("accepted a request that asks nothing: %s", body)
		}
		if req.Camera != "" && !wire.ValidID(req.Camera) {
			t.Fatalf("accepted camera %q", req.Camera)
		}
	})
}
