package changes

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"custgraph/ent"
	"custgraph/internal/access"
	"custgraph/internal/notify"
)

// Broker fans the stream out to the live subscribers of one replica. One
// poller per replica reads the stream (as custgraph, unfiltered) from where
// it last stopped into a buffer of recent events; it is woken by the
// notify.Changes signal every change sends in its transaction (on
// PostgreSQL through LISTEN/NOTIFY, so changes made through any replica
// wake every replica; on SQLite in-process), and polls every PollInterval
// anyway, so that a lost signal delays an event and never loses it.
//
// A replica with no subscription does not read the stream at all (no
// statement per signal or per PollInterval: every replica gets every
// change's signal); the first subscription wakes it up, at the stream's
// head of that moment (Head), and a subscriber resuming from an older
// cursor reads up to there from the database, as any subscriber behind
// the buffer does.
//
// Each subscriber keeps its own cursor. It takes the events after it from
// the buffer when the buffer reaches back that far, and otherwise reads
// them from the database with its own viewer (Since) until it has caught
// up: a subscriber that resumes from an old cursor gets every event since,
// in order, exactly once. Every batch is checked against the viewer the
// subscriber's Viewer function returns at that moment (its current
// entitlements), so a revoked role stops delivery with the next event.
type Broker struct {
	client *ent.Client
	hub    *notify.Hub
	opts   BrokerOptions

	mu    sync.Mutex
	ready chan struct{} // closed once the poller has its first position
	start Cursor        // the position just before buf[0]
	pos   Cursor        // the last position read
	buf   []Event       // the stream in (start, pos]
	wake  chan struct{} // closed (and replaced) when pos moves on
	idle  bool          // no subscription: the poller does not read; start, pos and buf are stale

	kick    chan struct{}
	stopped chan struct{} // closed when Run returns: every subscription ends

	active    atomic.Int64 // subscriptions being served
	delivered atomic.Int64 // events handed to subscribers
}

// Stopped is closed when Run has returned: the stream serves no one any more.
func (b *Broker) Stopped() <-chan struct{} { return b.stopped }

// Active is how many subscriptions the broker is serving.
func (b *Broker) Active() float64 { return float64(b.active.Load()) }

// Delivered is how many events the broker has handed to subscribers.
func (b *Broker) Delivered() float64 { return float64(b.delivered.Load()) }

// BrokerOptions tune a Broker.
type BrokerOptions struct {
	// PollInterval is the fallback poll's period; default 1s.
	PollInterval time.Duration
	// Buffer is the most recent events kept for live subscribers; default 10,000.
	Buffer int
	// Batch is the most events delivered to a subscriber per read; default 100.
	Batch  int
	Logger *slog.Logger
}

// NewBroker returns a broker over the database of client, woken by hub.
// Run must run for it to deliver.
func NewBroker(client *ent.Client, hub *notify.Hub, o BrokerOptions) *Broker {
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Buffer <= 0 {
		o.Buffer = 10_000
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Broker{client: client, hub: hub, opts: o, ready: make(chan struct{}),
		wake: make(chan struct{}), kick: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// Run polls the stream until ctx ends; then every subscription ends (a
// server shutting down closes its live connections).
func (b *Broker) Run(ctx context.Context) {
	defer close(b.stopped)
	ctx = access.SystemAs(ctx, "changes")
	cancel := b.hub.Subscribe("", func(e notify.Event) {
		if e.Reset || e.Channel == notify.Changes {
			b.poke()
		}
	})
	defer cancel()
	for {
		head, err := Head(ctx, b.client)
		if err == nil {
			b.mu.Lock()
			b.start, b.pos = head, head
			b.mu.Unlock()
			close(b.ready)
			break
		}
		b.opts.Logger.Warn("change stream: reading its head failed", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(b.opts.PollInterval):
		}
	}
	tick := time.NewTicker(b.opts.PollInterval)
	defer tick.Stop()
	// After a signal the stream must have something new; while it shows
	// nothing (on PostgreSQL a transaction that started writing earlier,
	// anywhere on the server, still runs and holds it back) look again
	// every few milliseconds, backing off to 100ms, for up to 10s.
	var retry <-chan time.Time
	var backoff time.Duration
	var pendingSince time.Time
	// While the database fails (an outage), polling fails on every tick
	// and every signal: one line when it starts, then at most one every
	// failedLogEvery with the count (it was ten lines a second), and one
	// when it works again.
	var failedLogged time.Time
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
			if pendingSince.IsZero() {
				pendingSince = time.Now()
				backoff = 2 * time.Millisecond
			}
		case <-tick.C:
		case <-retry:
		}
		retry = nil
		b.mu.Lock()
		if b.active.Load() == 0 {
			b.idle = true
		}
		idle := b.idle // also while a first subscriber reads the head (wakeUp)
		b.mu.Unlock()
		if idle {
			pendingSince = time.Time{}
			continue
		}
		n, err := b.poll(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			if failures++; failedLogged.IsZero() || time.Since(failedLogged) >= failedLogEvery {
				b.opts.Logger.Warn("change stream: polling failed", "err", err, "failures", failures)
				failedLogged, failures = time.Now(), 0
			}
		case n > 0:
			pendingSince = time.Time{}
		}
		if err == nil && !failedLogged.IsZero() {
			b.opts.Logger.Info("change stream: polling works again", "failures_since_logged", failures)
			failedLogged, failures = time.Time{}, 0
		}
		if !pendingSince.IsZero() {
			if time.Since(pendingSince) > 10*time.Second {
				pendingSince = time.Time{}
				continue
			}
			retry = time.After(backoff)
			backoff = min(2*backoff, 100*time.Millisecond)
		}
	}
}

// poll reads what is new into the buffer and wakes the subscribers.
func (b *Broker) poll(ctx context.Context) (int, error) {
	total := 0
	for {
		b.mu.Lock()
		pos := b.pos
		b.mu.Unlock()
		page, err := Since(ctx, b.client, pos, Filter{}, MaxLimit)
		if err != nil {
			return total, err
		}
		if len(page.Events) > 0 {
			total += len(page.Events)
			b.mu.Lock()
			b.buf = append(b.buf, page.Events...)
			if over := len(b.buf) - b.opts.Buffer; over > 0 {
				b.start = b.buf[over-1].Cursor
				b.buf = append([]Event(nil), b.buf[over:]...)
			}
			b.pos = page.Next
			close(b.wake)
			b.wake = make(chan struct{})
			b.mu.Unlock()
		}
		if !page.More {
			return total, nil
		}
	}
}

// Position returns the last position the broker has read (its head once it
// runs): where a subscription that asks for no past events starts.
func (b *Broker) Position(ctx context.Context) (Cursor, error) {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return Cursor{}, ctx.Err()
	case <-b.stopped:
		return Cursor{}, ErrStopped
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pos, nil
}

// Delivery is one event delivered to a subscriber, with the viewer it was
// checked against (to read the changed record as).
type Delivery struct {
	Event
	Viewer *access.Viewer
}

// failedLogEvery is the least time between two log lines of a polling
// that keeps failing.
const failedLogEvery = 5 * time.Second

// ErrEnded is returned by a subscriber's Viewer to end its subscription
// quietly.
var ErrEnded = errors.New("the subscription ended")

// ErrStopped ends the subscriptions of a broker whose Run has ended (the
// server is shutting down): a subscriber resumes elsewhere, after its last
// cursor.
var ErrStopped = errors.New("the change stream stopped: the server is shutting down")

// Subscribe streams the events after cursor (nil: from now on) that f
// passes and the subscriber may see, until ctx ends or viewer fails;
// viewer gives the subscriber's current viewer and is called before each
// batch. The channel is closed when the subscription ends; err, if set,
// says why (read it after the close).
func (b *Broker) Subscribe(ctx context.Context, after *Cursor, f Filter, viewer func(context.Context) (*access.Viewer, error)) (_ <-chan Delivery, _ *error, err error) {
	b.mu.Lock()
	b.active.Add(1) // under mu: the poller cannot go idle past this subscription
	wasIdle := b.idle
	b.mu.Unlock()
	defer func() {
		if err != nil {
			b.active.Add(-1)
		}
	}()
	if wasIdle {
		if err := b.wakeUp(ctx); err != nil {
			return nil, nil, err
		}
	}
	var cur Cursor
	if after != nil {
		cur = *after
	} else {
		p, err := b.Position(ctx)
		if err != nil {
			return nil, nil, err
		}
		cur = p
	}
	if _, err := viewer(ctx); err != nil {
		return nil, nil, err
	}
	out := make(chan Delivery)
	var end error
	go func() {
		defer close(out)
		defer b.active.Add(-1)
		end = b.serve(ctx, cur, f, viewer, out)
		if errors.Is(end, ErrEnded) || ctx.Err() != nil {
			end = nil
		}
	}()
	return out, &end, nil
}

// wakeUp restarts an idle poller at the stream's head: what it buffered
// before is stale, and whoever is behind the head reads from the database.
func (b *Broker) wakeUp(ctx context.Context) error {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stopped:
		return ErrStopped
	}
	head, err := Head(access.SystemAs(ctx, "changes"), b.client)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if b.idle {
		b.start, b.pos, b.buf, b.idle = head, head, nil, false
		close(b.wake)
		b.wake = make(chan struct{})
	}
	b.mu.Unlock()
	b.poke() // poll now rather than at the next tick
	return nil
}

// poke has the poller read the stream now (once, however often it is
// poked before it gets to it).
func (b *Broker) poke() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *Broker) serve(ctx context.Context, cur Cursor, f Filter, viewer func(context.Context) (*access.Viewer, error), out chan<- Delivery) error {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return nil
	case <-b.stopped:
		return ErrStopped
	}
	for {
		events, next, wait, err := b.fetch(ctx, cur, f, viewer)
		if err != nil {
			return err
		}
		for _, d := range events {
			select {
			case out <- d:
				b.delivered.Add(1)
			case <-ctx.Done():
				return nil
			case <-b.stopped:
				return ErrStopped
			}
		}
		cur = next
		if wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
				return nil
			case <-b.stopped:
				return ErrStopped
			}
		}
	}
}

// fetch returns the next events after cur for a subscriber, the cursor to
// go on from, and, when it has caught up, the channel that closes when there
// is more.
func (b *Broker) fetch(ctx context.Context, cur Cursor, f Filter, viewer func(context.Context) (*access.Viewer, error)) ([]Delivery, Cursor, <-chan struct{}, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, cur, nil, err
	}
	b.mu.Lock()
	start, pos, wake := b.start, b.pos, b.wake
	if !start.After(cur) { // the buffer reaches back to cur
		i := sort.Search(len(b.buf), func(i int) bool { return b.buf[i].Cursor.After(cur) })
		var out []Delivery
		next := cur
		for ; i < len(b.buf) && len(out) < b.opts.Batch; i++ {
			e := &b.buf[i]
			next = e.Cursor
			if f.Match(e) && Visible(v, e) {
				out = append(out, Delivery{Event: *e, Viewer: v})
			}
		}
		caughtUp := i == len(b.buf)
		b.mu.Unlock()
		if caughtUp {
			if pos.After(next) {
				next = pos
			}
			if len(out) == 0 {
				return nil, next, wake, nil
			}
			return out, next, nil, nil
		}
		return out, next, nil, nil
	}
	b.mu.Unlock()
	// Behind the buffer: read from the database, as the subscriber.
	page, err := Since(access.NewContext(ctx, v), b.client, cur, f, b.opts.Batch)
	if err != nil {
		return nil, cur, nil, err
	}
	next := page.Next
	if !page.More && start.After(next) {
		// Everything up to the horizon was read, and the buffer's start
		// was below the horizon before this read began.
		next = start
	}
	out := make([]Delivery, len(page.Events))
	for i, e := range page.Events {
		out[i] = Delivery{Event: e, Viewer: v}
	}
	return out, next, nil, nil
}
