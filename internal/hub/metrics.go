package hub

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg      *prometheus.Registry
	commands *prometheus.HistogramVec
	messages prometheus.Counter
}

func newMetrics(h *Hub) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.commands = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bailiff_command_duration_seconds",
		Help:    "Round trip of device commands from the API to the agent's ack, by action and outcome.",
		Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"action", "outcome"})
	m.messages = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "bailiff_mqtt_messages_received_total", Help: "MQTT messages the hub received from agents.",
	})
	m.reg.MustRegister(m.commands, m.messages,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_agents_online", Help: "Agents online now."},
			func() float64 { n, _ := h.reg.Counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_devices_unreachable", Help: "Configured devices not reachable now (or whose agent is offline)."},
			func() float64 { _, n := h.reg.Counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_commands_pending", Help: "Commands waiting for an ack."},
			func() float64 { return float64(h.router.Pending()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_acks_late_total", Help: "Acks that came for no pending command."},
			func() float64 { return float64(h.router.LateAcks()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_mqtt_bad_messages_total", Help: "Agent messages that failed to decode."},
			func() float64 { return float64(h.reg.BadMessages()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_alarms_active", Help: "Alarms raised and not cleared."},
			func() float64 { return float64(h.alarms.Active()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_event_streams", Help: "Open server-sent event streams."},
			func() float64 { return float64(h.feed.Subscribers()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_media_sessions", Help: "Open WHIP and WHEP sessions."},
			func() float64 {
				if h.whip == nil {
					return 0
				}
				return float64(h.whip.Sessions())
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_turn_allocations", Help: "Live relays of the embedded TURN server."},
			func() float64 {
				if h.turn == nil {
					return 0
				}
				return float64(h.turn.Allocations())
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_turn_credentials_refused_total", Help: "TURN user names refused (expired, malformed, too far ahead)."},
			func() float64 {
				if h.turn == nil {
					return 0
				}
				return float64(h.turn.Refused())
			}),
	)
	return m
}

func (m *metrics) observeCommand(action, outcome string, d time.Duration) {
	m.commands.WithLabelValues(action, outcome).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
