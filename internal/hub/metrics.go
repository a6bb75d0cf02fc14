package hub

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg      *prometheus.Registry
	commands *prometheus.HistogramVec
	messages prometheus.Counter
	states   prometheus.Counter
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
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bailiff_mqtt_bad_messages_total", Help: "Agent messages that failed to decode."},
			func() float64 { return float64(h.reg.BadMessages()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bailiff_event_streams", Help: "Open server-sent event streams."},
			func() float64 { return float64(h.feed.Subscribers()) }),
	)
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
