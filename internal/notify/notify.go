// Package notify carries "this changed" signals from the transaction that
// made a change to every replica that keeps something derived from it (the
// authentication cache; later, live subscriptions).
//
// A signal is sent inside the change's transaction with Send, and is
// delivered only if that transaction commits, after it committed:
//
//   - internal/store's driver keeps the signals of a transaction and
//     publishes them to this process's Hub when it has committed, before
//     Commit returns: the replica that made a change never serves what it
//     derived from the data before it;
//   - on PostgreSQL, Send also runs pg_notify, and every replica LISTENs on
//     a connection of its own (internal/store), so a change committed
//     through one replica reaches all of them, in commit order. On SQLite
//     (one process) there is no such statement to run.
//
// Signals are wake-ups, never the data itself: a subscriber that receives
// one reads the database again. When a replica may have missed signals (its
// listening connection broke), its Hub says so (Reset events, Healthy false)
// and subscribers must stop trusting what they derived until it is back.
package notify

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// Channels. A channel name is a PostgreSQL identifier.
const (
	// Callers is signalled when an API client, a user, an entitlement or a
	// bank changes; the payload is the changed client's or user's id, or
	// All when the change may concern any caller.
	Callers = "custgraph_callers"
	// Changes is signalled by every transaction that records a change in
	// the audit trail (the change stream, internal/changes); the payload
	// is All. It only wakes the stream's readers, which read the table.
	Changes = "custgraph_changes"
)

// Channels are every channel a replica listens on.
var Channels = []string{Callers, Changes}

// All is the payload of a signal about everything on its channel.
const All = "*"

// SQL sends a signal: PostgreSQL's pg_notify, which delivers at commit. On
// SQLite, internal/store's driver recognises this exact statement and keeps
// the signal until the transaction commits instead of running it.
const SQL = "SELECT pg_notify($1, $2)"

// Execer runs a statement (an ent client or transaction, a *sql.DB).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Send signals channel with payload through ex, in ex's transaction when it
// is one: delivered when it commits, dropped when it rolls back.
func Send(ctx context.Context, ex Execer, channel, payload string) error {
	_, err := ex.ExecContext(ctx, SQL, channel, payload)
	return err
}

// Event is one delivered signal, or a Reset.
type Event struct {
	Channel string
	Payload string
	// Reset says signals may have been lost (the replica's listening
	// connection broke, or came back): forget everything derived.
	Reset bool
}

// Hub fans the signals a replica receives out to its subscribers. The zero
// value is not usable; use NewHub.
type Hub struct {
	shared  bool
	healthy atomic.Bool
	mu      sync.RWMutex
	next    int
	subs    map[int]sub
}

type sub struct {
	channel string // "" for every channel
	fn      func(Event)
}

// NewHub returns a hub. shared says whether signals reach every process
// using the database (PostgreSQL) or only this one (SQLite); a hub starts
// healthy unless shared (it is healthy once its listener runs).
func NewHub(shared bool) *Hub {
	h := &Hub{shared: shared, subs: map[int]sub{}}
	h.healthy.Store(!shared)
	return h
}

// Shared reports whether changes made by other processes are signalled too.
func (h *Hub) Shared() bool { return h.shared }

// Healthy reports whether every committed change is being signalled. While
// it is false, subscribers must not serve what they derived.
func (h *Hub) Healthy() bool { return h.healthy.Load() }

// Subscribe calls fn with every signal on channel ("" for all channels)
// and with every Reset, until cancel is called. fn runs on the publisher's
// goroutine: it must be quick and must not block.
func (h *Hub) Subscribe(channel string, fn func(Event)) (cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.next
	h.next++
	h.subs[id] = sub{channel: channel, fn: fn}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, id)
	}
}

// Publish delivers a signal to the channel's subscribers.
func (h *Hub) Publish(channel, payload string) {
	h.deliver(Event{Channel: channel, Payload: payload})
}

// Lost marks the hub unhealthy (signals may be missed from now on) and
// sends every subscriber a Reset.
func (h *Hub) Lost() {
	h.healthy.Store(false)
	h.deliver(Event{Reset: true})
}

// Restored marks the hub healthy again and sends every subscriber a Reset
// (what happened while it was not is unknown).
func (h *Hub) Restored() {
	h.deliver(Event{Reset: true})
	h.healthy.Store(true)
}

func (h *Hub) deliver(e Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, s := range h.subs {
		if e.Reset || s.channel == "" || s.channel == e.Channel {
			s.fn(e)
		}
	}
}
