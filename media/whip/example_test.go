package whip_test

import (
	"errors"
	"log"
	"net/http"
	"strings"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/whip"
	"github.com/pion/webrtc/v4"
)

// The hub mounts one Server on both prefixes and answers the streams
// listing from the SFU.
func ExampleNew() {
	s, err := sfu.New(sfu.Options{Network: sfu.Network{UDPAddr: ":8189", NAT1To1IPs: []string{"203.0.113.7"}}})
	if err != nil {
		log.Fatal(err)
	}
	auth := whip.AuthorizerFunc(func(r *http.Request, site, room, stream string, publish bool) error {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			return whip.ErrUnauthorized
		}
		if !mayAccess(token, site, room, stream, publish) {
			return errors.New("not this room")
		}
		return nil
	})
	srv, err := whip.New(whip.Options{
		SFU: s, Authorizer: auth,
		ICEServers: []webrtc.ICEServer{{URLs: []string{"stun:hub.example:3478"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/whip/", srv)
	mux.Handle("/whep/", srv)
	mux.HandleFunc("GET /api/v1/streams", func(w http.ResponseWriter, r *http.Request) {
		for _, st := range s.Streams() {
			_ = whip.WHEPPath(sfu.Key{Site: st.Site, Room: st.Room, Name: st.Name}) // "whep" in the listing
		}
	})
	// On shutdown: srv.Close(), then s.Close().
}

func mayAccess(token, site, room, stream string, publish bool) bool { return false }
