package hub

import (
	"errors"
	"testing"

	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/wire"
)

// FuzzRolloutRequest: any body is refused with a bad request or gives a request that names a
// valid site and exactly one of a device (with its room) or all.
func FuzzRolloutRequest(f *testing.F) {
	for _, s := range []string{
		`{"site":"court","room":"r1","all":true}`,
		`{"site":"court","room":"r1","device":"tally-1","force":true}`,
		`{"site":"court","all":true,"device":"x"}`,
		`{"site":"Court","all":true}`,
		`{"site":"court","all":true}{}`,
		`{"site":"court","all":true,"extra":1}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseRolloutRequest(b)
		if err != nil {
			if !errors.Is(err, api.ErrBadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		if !wire.ValidID(req.Site) || (req.Room != "" && !wire.ValidID(req.Room)) ||
			(req.Device != "") == req.All || (req.Device != "" && (req.Room == "" || !wire.ValidID(req.Device))) {
			t.Fatalf("accepted %+v", req)
		}
	})
}
