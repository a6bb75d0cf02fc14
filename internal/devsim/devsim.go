// Package devsim runs one device simulator as a process of its own, for the
// hardware-in-the-loop harness and for people trying a room without its gear. It prints one
// JSON line with the simulator's address and a loopback control URL, serves the control API
// until stopped, and closes the simulator.
//
// Control API (JSON): GET /state → the simulator's snapshot; POST /mode {"mode":"silent"}.
package devsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
	_ "github.com/bailiff/bailiff/drivers/simreg/all" // every simulator
)

// Options say which simulator to run.
type Options struct {
	Driver  string
	Sim     simreg.Options
	Control string // loopback host:port of the control API; default 127.0.0.1:0
	Logger  *slog.Logger
}

// Ready is the line devsim prints once the simulator runs.
type Ready struct {
	Driver  string            `json:"driver"`
	ID      string            `json:"id"`
	Address string            `json:"address"`
	Control string            `json:"control"`
	Options map[string]string `json:"options,omitempty"` // device options the simulator needs
}

// Run starts the simulator, prints Ready to out and serves until ctx is done.
func Run(ctx context.Context, o Options, out io.Writer) error {
	if o.Control == "" {
		o.Control = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(o.Control); err != nil || !(host == "127.0.0.1" || host == "::1" || host == "localhost") {
		return fmt.Errorf("devsim: control address %q must be on loopback", o.Control)
	}
	sim, err := simreg.Start(o.Driver, o.Sim)
	if err != nil {
		return err
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", o.Control)
	if err != nil {
		return fmt.Errorf("devsim: control: %w", err)
	}
	srv := &http.Server{Handler: controlHandler(sim), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	r := Ready{Driver: o.Driver, ID: o.Sim.ID, Address: sim.Address(), Control: "http://" + ln.Addr().String()}
	if d, ok := sim.(simreg.DeviceOptions); ok {
		r.Options = d.DeviceOptions()
	}
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func controlHandler(sim simreg.Sim) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		in, ok := sim.(simreg.Inspector)
		if !ok {
			http.Error(w, `{"error":"this simulator cannot show its state"}`, http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(in.Snapshot())
	})
	mux.HandleFunc("POST /mode", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Mode string `json:"mode"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Mode == "" {
			http.Error(w, `{"error":"want {\"mode\":\"…\"}"}`, http.StatusBadRequest)
			return
		}
		m, ok := sim.(simreg.Misbehaver)
		if !ok {
			http.Error(w, `{"error":"this simulator cannot misbehave"}`, http.StatusNotImplemented)
			return
		}
		if err := m.SetMode(req.Mode); err != nil {
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			http.Error(w, string(b), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
