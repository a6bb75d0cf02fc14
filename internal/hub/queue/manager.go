package queue

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// Printer prints a ticket through a device command ("print" on an escpos device).
type Printer func(ctx context.Context, site, room, device string, args wire.PrintArgs) error

// Options configures a Manager.
type Options struct {
	Store  Store
	Notify func(Event) // every change, called under the queue's lock: it must not block or call the queue; nil: none
	Print  Printer     // nil: tickets are not printed
	Now    func() time.Time
	Log    *slog.Logger
	// PrintTimeout bounds one print; default 10s.
	PrintTimeout time.Duration
	// Shared: several hubs serve the queues, which then live in the store (see Queue.begin).
	Shared bool
}

// Manager holds the queues of every room that has one.
type Manager struct {
	opts   Options
	queues map[string]*Queue // site/room
	rooms  map[string]*config.Room
	prints chan struct{} // limits prints under way
}

// New makes the queues of the rooms that declare one and loads their state from the store.
func New(ctx context.Context, rooms []*config.Room, o Options) (*Manager, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.PrintTimeout == 0 {
		o.PrintTimeout = 10 * time.Second
	}
	m := &Manager{opts: o, queues: map[string]*Queue{}, rooms: map[string]*config.Room{}, prints: make(chan struct{}, 16)}
	for _, r := range rooms {
		if !r.Queue.Enabled() {
			continue
		}
		q := newQueue(r.Site, r.Room, r.Queue, o.Store, o.Now, o.Notify, o.Log)
		q.shared = o.Shared
		q.mu.Lock()
		err := q.load(ctx)
		q.said = q.day
		q.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("queue %s/%s: load: %w", r.Site, r.Room, err)
		}
		m.queues[r.Site+"/"+r.Room] = q
		m.rooms[r.Site+"/"+r.Room] = r
	}
	return m, nil
}

// Queue returns the queue of site/room.
func (m *Manager) Queue(site, room string) (*Queue, error) {
	q, ok := m.queues[site+"/"+room]
	if !ok {
		return nil, fmt.Errorf("%w: room %s/%s has no queue", ErrNotFound, site, room)
	}
	return q, nil
}

// Summary names one queue.
type Summary struct {
	Site string `json:"site"`
	Room string `json:"room"`
	Name string `json:"name"` // the room's name
}

// List returns the queues, by site and room.
func (m *Manager) List() []Summary {
	out := make([]Summary, 0, len(m.rooms))
	for _, r := range m.rooms {
		out = append(out, Summary{Site: r.Site, Room: r.Room, Name: r.Name})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Site+"/"+out[i].Room < out[j].Site+"/"+out[j].Room
	})
	return out
}

// Len is the number of queues.
func (m *Manager) Len() int { return len(m.queues) }

// IssueAndPrint issues a ticket and, when printer is set, prints it there in the background
// (a failed print is a "print-failed" event; the ticket stands).
func (m *Manager) IssueAndPrint(ctx context.Context, site, room, service string, priority bool, source, printer string) (Ticket, error) {
	q, err := m.Queue(site, room)
	if err != nil {
		return Ticket{}, err
	}
	if printer != "" {
		if err := m.checkPrinter(site, room, printer); err != nil {
			return Ticket{}, err
		}
	}
	t, err := q.Issue(ctx, service, priority, source)
	if err != nil || printer == "" || m.opts.Print == nil {
		return t, err
	}
	args := m.ticketArgs(q, t)
	select {
	case m.prints <- struct{}{}:
	default:
		q.emitPrintFailed(t, "too many prints under way")
		return t, nil
	}
	go func() {
		defer func() { <-m.prints }()
		pctx, cancel := context.WithTimeout(context.Background(), m.opts.PrintTimeout)
		defer cancel()
		if err := m.opts.Print(pctx, site, room, printer, args); err != nil {
			m.opts.Log.Warn("queue: print ticket", "site", site, "room", room, "device", printer, "ticket", t.Number, "error", err)
			q.emitPrintFailed(t, err.Error())
		}
	}()
	return t, nil
}

func (m *Manager) checkPrinter(site, room, printer string) error {
	r := m.rooms[site+"/"+room]
	for _, p := range r.Queue.Printers {
		if p == printer {
			return nil
		}
	}
	for _, b := range r.Queue.Buttons {
		if b.Printer == printer {
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not a ticket printer of %s/%s's queue (queue.printers)", ErrBadArgs, printer, site, room)
}

// ticketArgs lays out a ticket for the printer.
func (m *Manager) ticketArgs(q *Queue, t Ticket) wire.PrintArgs {
	ahead := 0
	if t.Ahead != nil {
		ahead = *t.Ahead
	}
	a := wire.PrintArgs{Number: t.Number, Service: t.ServiceName,
		Lines: []string{fmt.Sprintf("Waiting before you: %d", ahead), "Please wait for your number to be called."},
		QR:    q.statusURL(t.Number)}
	if t.Priority {
		a.Lines = append([]string{"PRIORITY"}, a.Lines...)
	}
	return a
}

func (q *Queue) emitPrintFailed(t Ticket, msg string) {
	if q.notify == nil {
		return
	}
	q.notify(Event{Site: q.site, Room: q.room, Action: "print-failed", Ticket: &t, Waiting: q.WaitingCounts(), Error: msg})
}

// HandleEvent issues a ticket when a device event matches one of the room's queue buttons.
func (m *Manager) HandleEvent(site, room, device string, ev wire.Event) {
	r, ok := m.rooms[site+"/"+room]
	if !ok {
		return
	}
	for _, b := range r.Queue.Buttons {
		if b.Device != device || b.Event != ev.Type || !matches(b.Match, ev.Fields) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t, err := m.IssueAndPrint(ctx, site, room, b.Service, b.IsPriority(), "button:"+device, b.Printer)
		cancel()
		if err != nil {
			m.opts.Log.Warn("queue: kiosk button", "site", site, "room", room, "device", device, "error", err)
			continue
		}
		m.opts.Log.Info("queue: ticket from a kiosk button", "site", site, "room", room, "device", device, "ticket", t.Number)
	}
}

// matches reports whether every field of want is in fields with that value (booleans and
// numbers compared as such: "true" matches true, "0" matches 0).
func matches(want map[string]string, fields map[string]any) bool {
	for k, v := range want {
		f, ok := fields[k]
		if !ok {
			return false
		}
		switch x := f.(type) {
		case bool:
			if b, ok := parseBool(v); !ok || b != x {
				return false
			}
		case string:
			if x != v {
				return false
			}
		default:
			if fmt.Sprint(x) != v {
				return false
			}
		}
	}
	return true
}

// Run starts each queue's new day at its reset time (checked every interval) until ctx ends.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, q := range m.queues {
			if err := q.tick(ctx); err != nil && ctx.Err() == nil {
				m.opts.Log.Warn("queue: daily reset", "site", q.site, "room", q.room, "error", err)
			}
		}
	}
}

var waitingDesc = prometheus.NewDesc("bailiff_queue_waiting", "Tickets waiting in a litigation hall queue, by service.",
	[]string{"site", "room", "service"}, nil)

// Describe implements prometheus.Collector.
func (m *Manager) Describe(ch chan<- *prometheus.Desc) { ch <- waitingDesc }

// Collect implements prometheus.Collector: the queue length per service.
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	keys := make([]string, 0, len(m.queues))
	for k := range m.queues {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q := m.queues[k]
		for s, n := range q.WaitingCounts() {
			ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(n), q.site, q.room, s)
		}
	}
}
