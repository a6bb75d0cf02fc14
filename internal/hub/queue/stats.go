package queue

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/bailiff/bailiff/internal/store"
)

// Stats are a queue's figures over a time range, per service, window and day.
type Stats struct {
	Site     string    `json:"site"`
	Room     string    `json:"room"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Total    Figures   `json:"total"`
	Services []Figures `json:"services"`
	Windows  []Figures `json:"windows"`
	Days     []Figures `json:"days"`
}

// Figures are the figures of one service, window or day. Waits run from issue to the first
// call; service times from the last call to served.
type Figures struct {
	Key          string  `json:"key"`
	Name         string  `json:"name,omitempty"`
	Tickets      int     `json:"tickets"`
	Called       int     `json:"called"`
	Served       int     `json:"served"`
	NoShows      int     `json:"no_shows"`
	Waiting      int     `json:"waiting"` // not yet called (or expired uncalled)
	MeanWaitS    float64 `json:"mean_wait_s"`
	MaxWaitS     float64 `json:"max_wait_s"`
	MeanServiceS float64 `json:"mean_service_s"`
	MaxServiceS  float64 `json:"max_service_s"`

	waitSum, serviceSum float64
}

func (f *Figures) add(t store.QueueTicket) {
	f.Tickets++
	if !t.FirstCalled.IsZero() {
		f.Called++
		w := t.FirstCalled.Sub(t.Issued).Seconds()
		f.waitSum += w
		f.MaxWaitS = max(f.MaxWaitS, w)
	} else {
		f.Waiting++
	}
	switch t.State {
	case Served:
		f.Served++
		s := t.Finished.Sub(t.Called).Seconds()
		f.serviceSum += s
		f.MaxServiceS = max(f.MaxServiceS, s)
	case NoShow:
		f.NoShows++
	}
}

func (f *Figures) done() {
	if f.Called > 0 {
		f.MeanWaitS = f.waitSum / float64(f.Called)
	}
	if f.Served > 0 {
		f.MeanServiceS = f.serviceSum / float64(f.Served)
	}
}

// MaxStatsRange is the longest range Stats covers.
const MaxStatsRange = 400 * 24 * time.Hour

// Stats computes the figures of the tickets issued in [from, to).
func (q *Queue) Stats(ctx context.Context, from, to time.Time) (Stats, error) {
	if !to.After(from) {
		return Stats{}, fmt.Errorf("%w: \"to\" (%s) must be after \"from\" (%s)", ErrBadArgs, to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxStatsRange {
		return Stats{}, fmt.Errorf("%w: the range is longer than %d days", ErrBadArgs, int(MaxStatsRange.Hours()/24))
	}
	ts, err := q.st.QueueTicketsIssued(ctx, q.site, q.room, from, to)
	if err != nil {
		return Stats{}, fmt.Errorf("queue %s/%s: stats: %w", q.site, q.room, err)
	}
	loc := q.cfg.Location()
	st := Stats{Site: q.site, Room: q.room, From: from.UTC(), To: to.UTC(), Total: Figures{Key: "total"}}
	svc, win, day := map[string]*Figures{}, map[string]*Figures{}, map[string]*Figures{}
	get := func(m map[string]*Figures, k, name string) *Figures {
		f, ok := m[k]
		if !ok {
			f = &Figures{Key: k, Name: name}
			m[k] = f
		}
		return f
	}
	for _, t := range ts {
		st.Total.add(t)
		get(svc, t.Service, q.services[t.Service].Name).add(t)
		if t.Window != "" {
			get(win, t.Window, q.windows[t.Window].Name).add(t)
		}
		get(day, t.Issued.In(loc).Format(time.DateOnly), "").add(t)
	}
	st.Total.done()
	list := func(m map[string]*Figures, order []string) []Figures {
		out := []Figures{}
		seen := map[string]bool{}
		for _, k := range order {
			if f, ok := m[k]; ok {
				f.done()
				out = append(out, *f)
				seen[k] = true
			}
		}
		var rest []string
		for k := range m {
			if !seen[k] {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		for _, k := range rest {
			m[k].done()
			out = append(out, *m[k])
		}
		return out
	}
	var so, wo []string
	for _, s := range q.cfg.Services {
		so = append(so, s.ID)
	}
	for _, w := range q.cfg.Windows {
		wo = append(wo, w.ID)
	}
	st.Services, st.Windows, st.Days = list(svc, so), list(win, wo), list(day, nil)
	return st, nil
}
