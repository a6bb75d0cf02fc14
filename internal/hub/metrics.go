package hub

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bailiff/bailiff/media/sfu"
)

type metrics struct {
	reg      *prometheus.Registry
	commands *prometheus.HistogramVec
	messages prometheus.Counter
	states   prometheus.Counter

	recBytes  atomic.Int64 // every recording's segment bytes (record.Options.Written)
	recErrors prometheus.Counter
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
	m.states = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "bailiff_device_states_received_total", Help: "Device state messages the hub received from agents.",
	})
	m.reg.MustRegister(m.commands, m.messages, m.states,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_agents_online", Help: "Agents online now."},
			func() float64 { n, _ := h.reg.Counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_devices_unreachable", Help: "Configured devices not reachable now (or whose agent is offline)."},
			func() float64 { _, n := h.reg.Counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_commands_pending", Help: "Commands waiting for an ack."},
			func() float64 { return float64(h.router.Pending()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_acks_late_total", Help: "Acks that came for no pending command."},
			func() float64 { return float64(h.router.LateAcks()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_acks_other_hubs_total", Help: "Acks for commands other hubs of the share group sent."},
			func() float64 { return float64(h.router.OtherAcks()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_mqtt_bad_messages_total", Help: "Agent messages that failed to decode."},
			func() float64 { return float64(h.reg.BadMessages()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_alarms_active", Help: "Alarms raised and not cleared."},
			func() float64 { return float64(h.activeAlarms()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_leader", Help: "1 while this hub runs the group's periodic jobs (the leader), else 0."},
			func() float64 {
				if h.Leading() {
					return 1
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_hub_feed_sent_total", Help: "Feed events this hub sent to the other hubs of its share group."},
			func() float64 { return h.hubFeedCount(func(f *hubFeed) int64 { return f.sent.Load() }) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_hub_feed_relayed_total", Help: "Feed events of the other hubs relayed into this hub's event streams."},
			func() float64 { return h.hubFeedCount(func(f *hubFeed) int64 { return f.relayed.Load() }) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_hub_feed_dropped_total", Help: "Feed events that could not be sent to the other hubs (buffer full or not acknowledged)."},
			func() float64 { return h.hubFeedCount(func(f *hubFeed) int64 { return f.dropped.Load() }) }),
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
	m.registerMedia(h)
	return m
}

func (m *metrics) observeCommand(action, outcome string, d time.Duration) {
	m.commands.WithLabelValues(action, outcome).Observe(d.Seconds())
}

// received counts one message from an agent on topic.
func (m *metrics) received(topic string) {
	m.messages.Inc()
	if strings.HasSuffix(topic, "/state") {
		m.states.Inc()
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// registerMedia adds what an operator watches of media: RTP the SFU carried, viewers and
// publishers, recordings and what they wrote.
func (m *metrics) registerMedia(h *Hub) {
	m.recErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "bailiff_recording_errors_total",
		Help: "Recordings that failed to start or were stopped by a write error (full disk, failing disk)."})
	totals := func(f func(sfu.Totals) int64) func() float64 {
		return func() float64 {
			if h.sfu == nil {
				return 0
			}
			return float64(f(h.sfu.Totals()))
		}
	}
	stats := func(f func(sfu.Stats) int) func() float64 {
		return func() float64 {
			if h.sfu == nil {
				return 0
			}
			return float64(f(h.sfu.Stats()))
		}
	}
	m.reg.MustRegister(m.recErrors,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_rtp_packets_received_total", Help: "RTP packets received from publishers."},
			totals(func(t sfu.Totals) int64 { return t.PacketsIn })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_rtp_bytes_received_total", Help: "RTP payload bytes received from publishers."},
			totals(func(t sfu.Totals) int64 { return t.BytesIn })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_rtp_packets_forwarded_total", Help: "RTP packets forwarded to viewers."},
			totals(func(t sfu.Totals) int64 { return t.PacketsOut })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_rtp_bytes_forwarded_total", Help: "RTP payload bytes forwarded to viewers."},
			totals(func(t sfu.Totals) int64 { return t.BytesOut })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_rtp_packets_dropped_total", Help: "RTP packets not forwarded to a viewer because its fan-out worker's queue was full (the hub fell behind), counted per viewer."},
			totals(func(t sfu.Totals) int64 { return t.Dropped })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_viewers", Help: "WHEP viewer sessions now."},
			stats(func(s sfu.Stats) int { return s.Viewers })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_viewers_fast_path", Help: "WHEP viewers sent on the fast path now (the rest go through the WebRTC library's own path)."},
			stats(func(s sfu.Stats) int { return s.FastViewers })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_publishers", Help: "WHIP publisher sessions now."},
			stats(func(s sfu.Stats) int { return s.Publishers })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_media_pulls", Help: "Streams this hub pulls from their origin hubs now (a replica's)."},
			stats(func(s sfu.Stats) int { return s.Pulls })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_recording_bytes_total", Help: "Bytes written to recording segments."},
			func() float64 { return float64(m.recBytes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_recordings_active", Help: "Recordings running now."},
			func() float64 {
				if h.recs == nil {
					return 0
				}
				h.recs.mu.Lock()
				defer h.recs.mu.Unlock()
				return float64(len(h.recs.active))
			}),
	)
}
