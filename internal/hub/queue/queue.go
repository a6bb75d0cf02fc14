// Package queue is the litigation service hall's ticket queue: services with their own number
// prefixes, windows that serve a set of services, and tickets that are issued (by a kiosk
// button, a kiosk page or staff), called, recalled, marked no-show, transferred and served.
//
// Every change is written to the store before it is made in memory and announced, so a hub
// restart finds the queue as it was. A room's queue is guarded by one mutex: numbers are
// issued in order per service and no ticket is called twice. Several hubs may serve one
// queue: then the store holds its state and the room's lock is the store's (Queue.begin).
//
// Rules:
//   - Call next first completes the window's current ticket (served), then takes the next:
//     priority tickets before the others; among them by the window's policy — first-come
//     takes the earliest ticket of the first of its services (in the configured order) that
//     has one, longest-wait the earliest ticket of all its services.
//   - A transferred ticket keeps its number and its original issue time: it waits in the new
//     service ordered by when it was issued, so a party sent on is not put behind everyone who
//     came after them.
//   - A no-show can be called back (recall with its number) at the window that called it until
//     that window has called recall_within further tickets.
//   - At the daily reset (a time of day in the site's time zone) numbers start again at 1 and
//     tickets still waiting or called are closed as expired.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/store"
)

// Ticket states.
const (
	Waiting = "waiting"
	Called  = "called"
	Served  = "served"
	NoShow  = "no-show"
	Expired = "expired"
)

// final states: a ticket in one of them is done.
var final = []string{Served, NoShow, Expired}

// Errors the API turns into 404, 409 and 400.
var (
	ErrNotFound = errors.New("queue: not found")
	ErrConflict = errors.New("queue: conflict")
	ErrBadArgs  = errors.New("queue: bad request")
)

// Tickets is where a queue reads and writes its tickets: the store, or one transaction of it.
type Tickets interface {
	PutQueueTicket(ctx context.Context, t store.QueueTicket) error
	QueueTickets(ctx context.Context, site, room, day string) ([]store.QueueTicket, error)
	CloseQueueTickets(ctx context.Context, site, room, day, state string, at time.Time, final []string) error
}

// Store is what the queue keeps its tickets in.
type Store interface {
	Tickets
	QueueTicketsIssued(ctx context.Context, site, room string, from, to time.Time) ([]store.QueueTicket, error)
	// BeginQueue begins a transaction holding the room's queue lock (shared queues).
	BeginQueue(ctx context.Context, site, room string) (*store.QueueTx, error)
}

// Ticket is a ticket as the API shows it.
type Ticket struct {
	Number      string    `json:"number"`
	Service     string    `json:"service"`
	ServiceName string    `json:"service_name"`
	Priority    bool      `json:"priority,omitempty"`
	State       string    `json:"state"`
	Window      string    `json:"window,omitempty"`
	WindowName  string    `json:"window_name,omitempty"`
	Source      string    `json:"source,omitempty"`
	Issued      time.Time `json:"issued"`
	Called      time.Time `json:"called,omitzero"`
	Finished    time.Time `json:"finished,omitzero"`
	Transferred time.Time `json:"transferred,omitzero"`
	FromService string    `json:"from_service,omitempty"`
	Calls       int       `json:"calls,omitempty"`
	// Ahead is how many tickets were waiting before this one in its service when it was
	// issued (answers to issuing only).
	Ahead *int `json:"ahead,omitempty"`
}

// Event is a change of a queue, for the event stream ("queue" events).
type Event struct {
	Site    string         `json:"site"`
	Room    string         `json:"room"`
	Action  string         `json:"action"` // issued, called, recalled, no-show, transferred, served, reset, print-failed
	Ticket  *Ticket        `json:"ticket,omitempty"`
	Window  string         `json:"window,omitempty"`
	Waiting map[string]int `json:"waiting"` // service → tickets waiting
	Error   string         `json:"error,omitempty"`
}

// Queue is one room's queue.
type Queue struct {
	site, room string
	cfg        config.Queue
	services   map[string]config.QueueService
	windows    map[string]config.QueueWindow
	st         Store
	now        func() time.Time
	notify     func(Event)
	log        *slog.Logger
	shared     bool // several hubs serve the queue: the store holds its state (shared below)

	mu      sync.Mutex
	tk      Tickets        // st, or the transaction of the change under way (shared)
	tx      *store.QueueTx // the change under way's transaction (shared); nil otherwise
	held    []Event        // events of the change under way, sent once it is committed (shared)
	said    string         // the day whose reset this hub last announced (shared)
	day     string
	tickets map[string]*store.QueueTicket // today's, by number
	waiting map[string]*lists             // service → its waiting tickets
	seq     map[string]int                // origin service → last number issued today
	callSeq int64
	recent  []*store.QueueTicket          // last calls, newest first
	called  map[string]*store.QueueTicket // window → its called ticket
}

// lists are the waiting tickets of one service, each in issue order.
type lists struct{ priority, normal []*store.QueueTicket }

func (l *lists) len() int { return len(l.priority) + len(l.normal) }

const recentCalls = 10

func newQueue(site, room string, cfg config.Queue, st Store, now func() time.Time, notify func(Event), log *slog.Logger) *Queue {
	q := &Queue{site: site, room: room, cfg: cfg, st: st, tk: st, now: now, notify: notify, log: log,
		services: map[string]config.QueueService{}, windows: map[string]config.QueueWindow{}}
	for _, s := range cfg.Services {
		q.services[s.ID] = s
	}
	for _, w := range cfg.Windows {
		q.windows[w.ID] = w
	}
	return q
}

// stamp is the time of a change, to the millisecond the store keeps.
func (q *Queue) stamp() time.Time { return q.now().UTC().Truncate(time.Millisecond) }

// Location is the queue's time zone.
func (q *Queue) Location() *time.Location { return q.cfg.Location() }

// dayOf returns the business day of t: the local date the last reset started.
func (q *Queue) dayOf(t time.Time) string {
	at, ok := q.cfg.ResetAt()
	if !ok {
		return "-"
	}
	return t.In(q.cfg.Location()).Add(-at).Format(time.DateOnly)
}

// load reads today's tickets and closes those of earlier days. Call with mu held.
func (q *Queue) load(ctx context.Context) error {
	now := q.now()
	day := q.dayOf(now)
	if err := q.tk.CloseQueueTickets(ctx, q.site, q.room, day, Expired, now, final); err != nil {
		return err
	}
	return q.read(ctx, day)
}

// read makes the state in memory the store's tickets of day. Call with mu held.
func (q *Queue) read(ctx context.Context, day string) error {
	ts, err := q.tk.QueueTickets(ctx, q.site, q.room, day)
	if err != nil {
		return err
	}
	q.day = day
	q.tickets = map[string]*store.QueueTicket{}
	q.waiting = map[string]*lists{}
	q.seq = map[string]int{}
	q.callSeq = 0
	q.recent = nil
	q.called = map[string]*store.QueueTicket{}
	for _, s := range q.cfg.Services {
		q.waiting[s.ID] = &lists{}
	}
	var called []*store.QueueTicket
	for i := range ts {
		t := &ts[i]
		q.tickets[t.Number] = t
		q.seq[t.Origin] = max(q.seq[t.Origin], t.Seq)
		q.callSeq = max(q.callSeq, t.CallSeq)
		if t.State == Waiting {
			if _, ok := q.services[t.Service]; !ok {
				q.log.Warn("queue: ticket of a service no longer configured left out", "site", q.site, "room", q.room, "ticket", t.Number, "service", t.Service)
				continue
			}
			q.enqueue(t)
		}
		if t.CallSeq > 0 {
			called = append(called, t)
		}
		if t.State == Called {
			if c := q.called[t.Window]; c == nil || t.CallSeq > c.CallSeq {
				q.called[t.Window] = t
			}
		}
	}
	sort.Slice(called, func(i, j int) bool { return called[i].CallSeq > called[j].CallSeq })
	q.recent = called[:min(len(called), recentCalls)]
	return nil
}

// rollover starts a new day when the reset time has passed. Call with mu held.
func (q *Queue) rollover(ctx context.Context) error {
	if q.dayOf(q.now()) == q.day {
		return nil
	}
	if err := q.load(ctx); err != nil {
		return err
	}
	q.emit("reset", nil, "")
	return nil
}

// before orders waiting tickets: by issue time, then number.
func before(a, b *store.QueueTicket) bool {
	if !a.Issued.Equal(b.Issued) {
		return a.Issued.Before(b.Issued)
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.Number < b.Number
}

func (q *Queue) enqueue(t *store.QueueTicket) {
	l := q.waiting[t.Service]
	p := &l.normal
	if t.Priority {
		p = &l.priority
	}
	i := sort.Search(len(*p), func(i int) bool { return before(t, (*p)[i]) })
	*p = slices.Insert(*p, i, t)
}

func (q *Queue) dequeue(t *store.QueueTicket) {
	l := q.waiting[t.Service]
	for _, p := range []*[]*store.QueueTicket{&l.priority, &l.normal} {
		if i := slices.Index(*p, t); i >= 0 {
			*p = slices.Delete(*p, i, i+1)
			return
		}
	}
}

func (q *Queue) waitingCounts() map[string]int {
	out := make(map[string]int, len(q.waiting))
	for s, l := range q.waiting {
		out[s] = l.len()
	}
	return out
}

func (q *Queue) view(t *store.QueueTicket) *Ticket {
	v := &Ticket{Number: t.Number, Service: t.Service, ServiceName: q.services[t.Service].Name, Priority: t.Priority,
		State: t.State, Window: t.Window, Source: t.Source, Issued: t.Issued, Called: t.Called, Finished: t.Finished,
		Transferred: t.Transferred, FromService: t.FromService, Calls: t.Calls}
	if t.Window != "" {
		v.WindowName = q.windows[t.Window].Name
	}
	return v
}

func (q *Queue) emit(action string, t *store.QueueTicket, window string) {
	if q.notify == nil {
		return
	}
	ev := Event{Site: q.site, Room: q.room, Action: action, Window: window, Waiting: q.waitingCounts()}
	if t != nil {
		ev.Ticket = q.view(t)
	}
	if q.tx != nil {
		q.held = append(q.held, ev)
		return
	}
	q.notify(ev)
}

// save writes t to the store and, when that worked, makes it the ticket in memory.
func (q *Queue) save(ctx context.Context, t store.QueueTicket) (*store.QueueTicket, error) {
	if err := q.tk.PutQueueTicket(ctx, t); err != nil {
		return nil, fmt.Errorf("queue %s/%s: %w", q.site, q.room, err)
	}
	p, ok := q.tickets[t.Number]
	if ok {
		if q.called[p.Window] == p {
			delete(q.called, p.Window)
		}
		*p = t
	} else {
		p = &t
		q.tickets[t.Number] = p
	}
	if p.State == Called {
		q.called[p.Window] = p
	}
	return p, nil
}

// Several hubs may serve one queue (Options.Shared). Then the store holds the queue's state
// and memory only a picture of it for the call under way: a change runs in one store
// transaction holding the room's queue lock (store.BeginQueue: in PostgreSQL an advisory lock,
// so the hubs change the room's queue one at a time), starting from the tickets read anew in
// that transaction, and its events go out once it has committed; a read reads the tickets
// anew. So numbers are issued in order across the hubs and no ticket is called twice. A lone
// hub keeps the state in memory, as every change writes it through.

// begin takes the lock and starts a new day if it is time; shared, it reads the queue anew
// from the store, for a change (write) within a transaction holding the room's lock. The
// caller ends with release.
func (q *Queue) begin(ctx context.Context, write bool) error {
	q.mu.Lock()
	if !q.shared {
		if err := q.rollover(ctx); err != nil {
			q.mu.Unlock()
			return err
		}
		return nil
	}
	if write {
		tx, err := q.st.BeginQueue(ctx, q.site, q.room)
		if err != nil {
			q.mu.Unlock()
			return fmt.Errorf("queue %s/%s: %w", q.site, q.room, err)
		}
		q.tx, q.tk = tx, tx
	}
	if err := q.refresh(ctx); err != nil {
		q.release(&err)
		return fmt.Errorf("queue %s/%s: %w", q.site, q.room, err)
	}
	return nil
}

// refresh reads the queue's tickets anew (shared): today's, and on a new day the earlier
// days' left-overs are closed first. Call with mu held.
func (q *Queue) refresh(ctx context.Context) error {
	if day := q.dayOf(q.now()); day == q.day {
		return q.read(ctx, day)
	}
	return q.load(ctx)
}

// release ends what begin began and unlocks. Shared, a change's transaction commits when the
// change did what it was asked or refused it for the queue's own reasons (a 4xx: nothing or
// only what stands was written, e.g. call-next's completed ticket), and its events go out; on
// any other error it is rolled back.
func (q *Queue) release(errp *error) {
	defer q.mu.Unlock()
	tx, held := q.tx, q.held
	q.tx, q.tk, q.held = nil, q.st, nil
	if tx == nil {
		return
	}
	if err := *errp; err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrBadArgs) {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		*errp = fmt.Errorf("queue %s/%s: %w", q.site, q.room, err)
		return
	}
	for _, ev := range held {
		q.notify(ev)
	}
}

// tick starts a new day if it is time (Manager.Run). Shared, the hub that ticks (the group's
// leader) announces each day's reset once.
func (q *Queue) tick(ctx context.Context) (err error) {
	if err := q.begin(ctx, false); err != nil {
		return err
	}
	defer q.release(&err)
	if q.shared && q.said != q.day {
		if q.said != "" {
			q.emit("reset", nil, "")
		}
		q.said = q.day
	}
	return nil
}

// Issue issues a ticket of service; source says what asked for it.
func (q *Queue) Issue(ctx context.Context, service string, priority bool, source string) (_ Ticket, err error) {
	if err := q.begin(ctx, true); err != nil {
		return Ticket{}, err
	}
	defer q.release(&err)
	s, ok := q.services[service]
	if !ok {
		return Ticket{}, fmt.Errorf("%w: no service %q in %s/%s; services: %s", ErrNotFound, service, q.site, q.room, q.serviceList())
	}
	seq := q.seq[service] + 1
	limit := 1
	for range s.DigitsOf() {
		limit *= 10
	}
	if seq >= limit {
		return Ticket{}, fmt.Errorf("%w: service %s has issued all %d numbers of today", ErrConflict, service, limit-1)
	}
	ahead := q.waiting[service].len()
	t, err := q.save(ctx, store.QueueTicket{Site: q.site, Room: q.room, Day: q.day, Seq: seq,
		Number: fmt.Sprintf("%s%0*d", s.PrefixOf(), s.DigitsOf(), seq), Origin: service, Service: service,
		Priority: priority, State: Waiting, Source: source, Issued: q.stamp()})
	if err != nil {
		return Ticket{}, err
	}
	q.seq[service] = seq
	q.enqueue(t)
	q.emit("issued", t, "")
	v := q.view(t)
	v.Ahead = &ahead
	return *v, nil
}

func (q *Queue) serviceList() string {
	ids := make([]string, len(q.cfg.Services))
	for i, s := range q.cfg.Services {
		ids[i] = s.ID
	}
	return strings.Join(ids, ", ")
}

func (q *Queue) window(id string) (config.QueueWindow, error) {
	w, ok := q.windows[id]
	if !ok {
		ids := make([]string, len(q.cfg.Windows))
		for i, w := range q.cfg.Windows {
			ids[i] = w.ID
		}
		return w, fmt.Errorf("%w: no window %q in %s/%s; windows: %s", ErrNotFound, id, q.site, q.room, strings.Join(ids, ", "))
	}
	return w, nil
}

// current returns the ticket the window has called and not finished, or nil.
func (q *Queue) current(window string) *store.QueueTicket { return q.called[window] }

// next picks the window's next ticket, or nil.
func (q *Queue) next(w config.QueueWindow) *store.QueueTicket {
	pick := func(get func(*lists) []*store.QueueTicket) *store.QueueTicket {
		var best *store.QueueTicket
		for _, s := range w.Services {
			l := get(q.waiting[s])
			if len(l) == 0 {
				continue
			}
			if w.Policy != config.QueueLongestWait {
				return l[0]
			}
			if best == nil || before(l[0], best) {
				best = l[0]
			}
		}
		return best
	}
	if t := pick(func(l *lists) []*store.QueueTicket { return l.priority }); t != nil {
		return t
	}
	return pick(func(l *lists) []*store.QueueTicket { return l.normal })
}

// finish ends the window's current ticket in state, if it has one.
func (q *Queue) finish(ctx context.Context, window, state string) (*store.QueueTicket, error) {
	cur := q.current(window)
	if cur == nil {
		return nil, nil
	}
	t := *cur
	t.State, t.Finished = state, q.stamp()
	p, err := q.save(ctx, t)
	if err != nil {
		return nil, err
	}
	q.emit(map[string]string{Served: "served", NoShow: "no-show"}[state], p, window)
	return p, nil
}

// call makes t the window's current ticket.
func (q *Queue) call(ctx context.Context, t *store.QueueTicket, window, action string) (*store.QueueTicket, error) {
	n := *t
	now := q.stamp()
	n.State, n.Window, n.Called, n.Finished = Called, window, now, time.Time{}
	if n.FirstCalled.IsZero() {
		n.FirstCalled = now
	}
	n.Calls++
	n.CallSeq = q.callSeq + 1
	wasWaiting := t.State == Waiting
	p, err := q.save(ctx, n)
	if err != nil {
		return nil, err
	}
	q.callSeq = n.CallSeq
	if wasWaiting {
		q.dequeue(p)
	}
	q.recent = slices.DeleteFunc(q.recent, func(x *store.QueueTicket) bool { return x == p })
	q.recent = slices.Insert(q.recent, 0, p)
	if len(q.recent) > recentCalls {
		q.recent = q.recent[:recentCalls]
	}
	q.emit(action, p, window)
	return p, nil
}

// CallNext completes the window's current ticket and calls the next one.
func (q *Queue) CallNext(ctx context.Context, window string) (_ Ticket, err error) {
	if err := q.begin(ctx, true); err != nil {
		return Ticket{}, err
	}
	defer q.release(&err)
	w, err := q.window(window)
	if err != nil {
		return Ticket{}, err
	}
	if _, err := q.finish(ctx, window, Served); err != nil {
		return Ticket{}, err
	}
	t := q.next(w)
	if t == nil {
		return Ticket{}, fmt.Errorf("%w: no ticket is waiting for window %s (services %s)", ErrConflict, window, strings.Join(w.Services, ", "))
	}
	p, err := q.call(ctx, t, window, "called")
	if err != nil {
		return Ticket{}, err
	}
	return *q.view(p), nil
}

// Recall announces the window's current ticket again; with a number, it calls back a
// no-show of this window instead (completing the current ticket).
func (q *Queue) Recall(ctx context.Context, window, number string) (_ Ticket, err error) {
	if err := q.begin(ctx, true); err != nil {
		return Ticket{}, err
	}
	defer q.release(&err)
	if _, err := q.window(window); err != nil {
		return Ticket{}, err
	}
	if number == "" {
		cur := q.current(window)
		if cur == nil {
			return Ticket{}, fmt.Errorf("%w: window %s has no called ticket to recall", ErrConflict, window)
		}
		p, err := q.call(ctx, cur, window, "recalled")
		if err != nil {
			return Ticket{}, err
		}
		return *q.view(p), nil
	}
	t, ok := q.tickets[number]
	if !ok {
		return Ticket{}, fmt.Errorf("%w: no ticket %q today", ErrNotFound, number)
	}
	if t.State != NoShow || t.Window != window {
		return Ticket{}, fmt.Errorf("%w: ticket %s is %s at window %q; only a no-show of window %s can be recalled here", ErrConflict, number, t.State, t.Window, window)
	}
	since := 0
	for _, u := range q.tickets {
		if u.Window == window && u.CallSeq > t.CallSeq {
			since++
		}
	}
	if since >= q.cfg.Recalls() {
		return Ticket{}, fmt.Errorf("%w: ticket %s missed its turn %d calls ago; it can be recalled within %d", ErrConflict, number, since, q.cfg.Recalls())
	}
	if _, err := q.finish(ctx, window, Served); err != nil {
		return Ticket{}, err
	}
	p, err := q.call(ctx, t, window, "recalled")
	if err != nil {
		return Ticket{}, err
	}
	return *q.view(p), nil
}

// NoShow marks the window's current ticket as not come.
func (q *Queue) NoShow(ctx context.Context, window string) (Ticket, error) {
	return q.end(ctx, window, NoShow)
}

// Complete marks the window's current ticket as served.
func (q *Queue) Complete(ctx context.Context, window string) (Ticket, error) {
	return q.end(ctx, window, Served)
}

func (q *Queue) end(ctx context.Context, window, state string) (_ Ticket, err error) {
	if err := q.begin(ctx, true); err != nil {
		return Ticket{}, err
	}
	defer q.release(&err)
	if _, err := q.window(window); err != nil {
		return Ticket{}, err
	}
	p, err := q.finish(ctx, window, state)
	if err != nil {
		return Ticket{}, err
	}
	if p == nil {
		return Ticket{}, fmt.Errorf("%w: window %s has no called ticket", ErrConflict, window)
	}
	return *q.view(p), nil
}

// Transfer sends the window's current ticket to wait for another service, keeping its number
// and issue time.
func (q *Queue) Transfer(ctx context.Context, window, service string) (_ Ticket, err error) {
	if err := q.begin(ctx, true); err != nil {
		return Ticket{}, err
	}
	defer q.release(&err)
	if _, err := q.window(window); err != nil {
		return Ticket{}, err
	}
	if _, ok := q.services[service]; !ok {
		return Ticket{}, fmt.Errorf("%w: no service %q in %s/%s; services: %s", ErrNotFound, service, q.site, q.room, q.serviceList())
	}
	cur := q.current(window)
	if cur == nil {
		return Ticket{}, fmt.Errorf("%w: window %s has no called ticket to transfer", ErrConflict, window)
	}
	if cur.Service == service {
		return Ticket{}, fmt.Errorf("%w: ticket %s is already for service %s", ErrConflict, cur.Number, service)
	}
	t := *cur
	t.FromService, t.Service, t.State, t.Transferred = t.Service, service, Waiting, q.stamp()
	p, err := q.save(ctx, t)
	if err != nil {
		return Ticket{}, err
	}
	q.enqueue(p)
	q.emit("transferred", p, window)
	return *q.view(p), nil
}

// Live is the queue as the displays and windows show it.
type Live struct {
	Site     string        `json:"site"`
	Room     string        `json:"room"`
	Day      string        `json:"day"`
	Services []LiveService `json:"services"`
	Windows  []LiveWindow  `json:"windows"`
	Recent   []Ticket      `json:"recent"` // the last calls, newest first
}

// LiveService is one service of the live queue.
type LiveService struct {
	ID      string            `json:"id"`
	Prefix  string            `json:"prefix"`
	Name    string            `json:"name"`
	Names   map[string]string `json:"names,omitempty"`
	Waiting []Ticket          `json:"waiting"` // in the order they would be called by first-come
	Issued  int               `json:"issued"`  // numbers issued today
}

// LiveWindow is one window of the live queue.
type LiveWindow struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Names    map[string]string `json:"names,omitempty"`
	Services []string          `json:"services"`
	Policy   string            `json:"policy"`
	Current  *Ticket           `json:"current"`
}

// Live returns the live queue.
func (q *Queue) Live(ctx context.Context) (_ Live, err error) {
	if err := q.begin(ctx, false); err != nil {
		return Live{}, err
	}
	defer q.release(&err)
	l := Live{Site: q.site, Room: q.room, Day: q.day, Services: []LiveService{}, Windows: []LiveWindow{}, Recent: []Ticket{}}
	for _, s := range q.cfg.Services {
		ls := LiveService{ID: s.ID, Prefix: s.PrefixOf(), Name: s.Name, Names: s.Names, Waiting: []Ticket{}, Issued: q.seq[s.ID]}
		w := q.waiting[s.ID]
		for _, t := range append(append([]*store.QueueTicket{}, w.priority...), w.normal...) {
			ls.Waiting = append(ls.Waiting, *q.view(t))
		}
		l.Services = append(l.Services, ls)
	}
	for _, w := range q.cfg.Windows {
		lw := LiveWindow{ID: w.ID, Name: w.Name, Names: w.Names, Services: w.Services, Policy: w.Policy}
		if lw.Policy == "" {
			lw.Policy = config.QueueFirstCome
		}
		if cur := q.current(w.ID); cur != nil {
			lw.Current = q.view(cur)
		}
		l.Windows = append(l.Windows, lw)
	}
	for _, t := range q.recent {
		l.Recent = append(l.Recent, *q.view(t))
	}
	return l, nil
}

// WaitingCounts returns how many tickets wait per service (shared: as the store has them,
// or as last read should the store not answer within 2s).
func (q *Queue) WaitingCounts() map[string]int {
	if q.shared {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var err error
		if q.begin(ctx, false) == nil {
			defer q.release(&err)
			return q.waitingCounts()
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waitingCounts()
}

// Ticket returns one of today's tickets.
func (q *Queue) Ticket(ctx context.Context, number string) (_ Ticket, err error) {
	if err := q.begin(ctx, false); err != nil {
		return Ticket{}, err
	}
	defer q.release(&err)
	t, ok := q.tickets[number]
	if !ok {
		return Ticket{}, fmt.Errorf("%w: no ticket %q today", ErrNotFound, number)
	}
	v := q.view(t)
	if t.State == Waiting {
		l := q.waiting[t.Service]
		ahead := slices.Index(l.priority, t)
		if !t.Priority {
			ahead = len(l.priority) + slices.Index(l.normal, t)
		}
		v.Ahead = &ahead
	}
	return *v, nil
}

// statusURL is the ticket's status URL for its QR code, or "".
func (q *Queue) statusURL(number string) string {
	return strings.ReplaceAll(q.cfg.StatusURL, "{number}", number)
}

// parseBool reads a match value as a boolean, for comparing with an event's field.
func parseBool(s string) (bool, bool) {
	b, err := strconv.ParseBool(s)
	return b, err == nil
}
