package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/hub/invite"
	"github.com/bailiff/bailiff/web"
)

// The public listener (hub.yaml http.public_listen) faces the outside network. It serves only
// what an invited visitor needs; everything else answers 404 there, and its WHIP/WHEP take
// invite tokens only (a staff session or an agent token answers 403).

// PublicFiles are the visitor page and the files it loads, the only pages the public listener
// serves (GET and HEAD).
var PublicFiles = []string{
	web.JoinPath, "/join.html", "/join.js", "/panel.js", "/whip.js", "/panels.css",
	"/lib/base.css", "/lib/i18n.js", "/lib/api.js",
}

// publicInviteSelf is the one API route on the public listener: an invite reads itself.
const publicInviteSelf = "/api/v1/invite"

type publicKey struct{}

// fromPublic says whether r came in on the public listener.
func fromPublic(r *http.Request) bool {
	v, _ := r.Context().Value(publicKey{}).(bool)
	return v
}

// errPublicMedia refuses a staff or agent token on the public listener.
var errPublicMedia = errors.New("only an invite may send or watch media on the public address")

// publicHandler is the public listener's handler: the visitor page and its files, the invite's
// own view, and WHIP/WHEP for invite tokens.
func (h *Hub) publicHandler(apiH http.Handler) http.Handler {
	mux := http.NewServeMux()
	if h.opts.Web != nil {
		for _, p := range PublicFiles {
			mux.Handle("GET "+p, h.opts.Web) // GET also answers HEAD
		}
	}
	mux.Handle("GET "+publicInviteSelf, apiH)
	for _, prefix := range []string{"/whip/", "/whep/"} {
		for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			mux.Handle(m+" "+prefix, h.whip)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			http.NotFound(w, r) // not 405: the listener does not say what exists elsewhere
			return
		}
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), publicKey{}, true)))
	})
}

// startPublic opens the public listener when Options.PublicListen is set.
func (h *Hub) startPublic(baseCtx context.Context, apiH http.Handler) error {
	if h.opts.PublicListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", h.opts.PublicListen)
	if err != nil {
		return fmt.Errorf("hub: public http listen on %s: %w", h.opts.PublicListen, err)
	}
	h.pubLn = h.httpsListener(ln)
	h.pubHTTP = &http.Server{
		Handler:           h.publicHandler(apiH),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
	}
	for _, w := range wildcards(h.opts) {
		h.log.Warn("a two-network hub listens on every address, the outside's too: give it the court address", "key", w)
	}
	h.pubDone = make(chan struct{})
	go func() {
		defer close(h.pubDone)
		if err := h.pubHTTP.Serve(h.pubLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("public http serve", "error", err)
		}
	}()
	return nil
}

// PublicAddr is the address of the public listener; "" when it is off.
func (h *Hub) PublicAddr() string {
	if h.pubLn == nil {
		return ""
	}
	return h.pubLn.Addr().String()
}

// checkPublicMedia refuses every media token but an invite on the public listener.
func checkPublicMedia(r *http.Request, token string) error {
	if fromPublic(r) && !strings.HasPrefix(token, invite.Prefix) {
		return errPublicMedia
	}
	return nil
}

// wildcards names the listeners of o that bind every address (an empty or unspecified host):
// on a hub with a public listener they answer on the outside too (docs/OPERATIONS.md "Two
// networks").
func wildcards(o Options) []string {
	addrs := []struct{ key, addr string }{{"http.listen", o.HTTPListen}, {"media.udp", o.Media.UDPAddr}}
	if o.External == nil {
		addrs = append(addrs, struct{ key, addr string }{"mqtt.listen", o.MQTTListen})
		if o.TLS != nil {
			addrs[len(addrs)-1] = struct{ key, addr string }{"tls.mqtt_listen", o.TLS.MQTTListen}
		}
	}
	var out []string
	for _, a := range addrs {
		if a.addr == "" {
			continue
		}
		host, _, err := net.SplitHostPort(a.addr)
		if ip := net.ParseIP(host); err == nil && (host == "" || ip != nil && ip.IsUnspecified()) {
			out = append(out, a.key)
		}
	}
	return out
}
