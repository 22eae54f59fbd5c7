// Package ratelimit limits how many requests each caller may make, answering
// 429 Too Many Requests with a Retry-After header when the limit is reached.
// It is built on github.com/go-chi/httprate.
//
// # Who is a caller
//
// The authenticated viewer when there is one (access.FromContext), keyed as
// kind+":"+ID (e.g. "client:6f1c…"), so a client keeps its budget whichever
// address it calls from. Otherwise the client IP, keyed as "ip:"+address: the
// IP stored by one of chi's ClientIPFrom* middlewares when one ran, else
// r.RemoteAddr (as rewritten by chi's middleware.RealIP) without its port.
// IPv6 addresses are keyed by their /64 prefix (like httprate.KeyByIP), since
// a single host usually owns a whole /64. The middleware must therefore be
// mounted after authentication and after the client-IP middleware.
//
// # The sliding-window counter
//
// httprate counts accepted requests per key in fixed windows of length
// Window, aligned to the Unix epoch (the start of the current window is the
// wall-clock time truncated to Window). At time t, d into the current window,
// the caller's rate is
//
//	rate = previous × (Window − d) / Window + current
//
// i.e. the previous window's count is weighted by how much of it still
// overlaps the sliding interval [t − Window, t], assuming its requests were
// spread evenly. A request is refused when round(rate) + 1 > Requests.
// Refused requests are not counted, so a caller who keeps retrying is not
// locked out for longer. Responses carry httprate's X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset (end of the current fixed window,
// Unix seconds) headers. A refused request gets Retry-After: Window rounded up
// to whole seconds, at least 1 (RFC 9110 delay-seconds), which is the point
// by which most of the caller's budget is back.
//
// # What a replica sees
//
// Store "database" (the default) keeps the counters in the shared database
// (table rate_limit_counters, one row per key and window), so every replica
// counts against the same totals and the limit holds for the whole
// deployment, however many replicas run. On PostgreSQL the table is
// UNLOGGED: counters need no crash safety (after a crash PostgreSQL empties
// the table, which merely forgives the current window), and unlogged tables
// skip the write-ahead log. Unlogged tables are not replicated to standbys
// either, which is fine: only the primary serves the counters.
//
// A request runs no statement. Each replica decides on its view of a
// caller's counts: the table's totals at its last sync plus the requests it
// admitted since (the first request of a caller the replica has not seen
// yet reads the caller's row once). Every Sync (250 ms by default) a
// background loop adds the replica's new counts to the table in one batched
// upsert (INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count,
// atomic on its own) and reads back the totals of the callers it saw since
// the last sync in one batched read; it stops when the replica is idle, so an
// idle replica runs nothing. Windows older than the previous one are deleted
// once per window. The cost of the limit is therefore two statements per
// replica per Sync, whatever the request rate.
//
// Within a replica the count is exact: httprate serialises the check and
// the increment per key (this package shards httprate's single mutex by key
// so that unrelated callers do not wait on each other). Across replicas a
// replica learns the others' requests at its next sync, so a caller spread
// over R replicas can exceed Requests by what the other R − 1 replicas admit
// to it within one Sync interval (plus one sync's round trip): at most
// (R − 1) × its rate per replica × Sync. At 1,200 requests a minute and
// 250 ms that is a few requests; a caller can never get more than Requests
// from one replica. Window boundaries come from each replica's clock, so
// replicas' clocks should be synchronised (NTP).
//
// Database errors never turn into errors for the caller: when a sync fails,
// its counts stay pending for the next one and the replica goes on deciding
// on its own view, so the limit then holds per replica (as with the memory
// store) rather than not at all. Failures are logged with slog at warn
// level, at most one every 10 seconds per middleware, with the number of
// suppressed messages. Each sync is bounded by a two-second timeout.
//
// Store "memory" uses httprate's in-process counter instead: no database
// round trip, but each replica counts only the requests it serves itself, so
// with N replicas behind a load balancer a caller gets up to N × Requests per
// window. Use it for a single replica, or when an approximate per-replica
// limit is good enough.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"custgraph/internal/access"
	"custgraph/internal/observe"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
)

// The values of Config.Store.
const (
	StoreDatabase = "database" // counters in the shared database: one limit for all replicas
	StoreMemory   = "memory"   // counters in each replica's memory: the limit is per replica
)

// Config configures the limiter.
type Config struct {
	// Requests is how many requests a caller may make per Window. Zero or
	// less disables rate limiting: the middleware passes every request
	// through.
	Requests int
	// Window is the length of the sliding window; at least a millisecond.
	Window time.Duration
	// Store is StoreDatabase ("database", the default when empty) or
	// StoreMemory ("memory").
	Store string
	// Sync is how often the database store reconciles each replica's
	// counts with the shared table; DefaultSync when zero.
	Sync time.Duration
	// OnLimit, when set, writes the response to a refused request. The
	// Retry-After header (whole seconds, at least 1) is already set;
	// retryAfter is the same delay. When nil, the response is the 429 of
	// the request's door (refusal.Write: RATE_LIMITED in its format).
	OnLimit func(w http.ResponseWriter, r *http.Request, retryAfter time.Duration)
}

// shards is how many httprate limiters, each with its own mutex, share the
// counter; a key always maps to the same shard.
const shards = 32

// New returns the rate-limiting middleware described by cfg. With the
// database store it creates the counter table in db if it does not exist.
func New(db *store.DB, cfg Config) (func(http.Handler) http.Handler, error) {
	mw, _, err := build(db, cfg)
	return mw, err
}

// build is New that also returns the database store's counter (nil for the
// memory store or when limiting is off).
func build(db *store.DB, cfg Config) (func(http.Handler) http.Handler, *syncedCounter, error) {
	if cfg.Requests <= 0 {
		return func(next http.Handler) http.Handler { return next }, nil, nil
	}
	if cfg.Window < time.Millisecond {
		return nil, nil, fmt.Errorf("ratelimit: the window must be at least a millisecond, got %v", cfg.Window)
	}
	warn := &warner{}
	var (
		counter httprate.LimitCounter
		synced  *syncedCounter
	)
	switch cfg.Store {
	case StoreDatabase, "":
		if db == nil || db.SQL == nil {
			return nil, nil, errors.New("ratelimit: the database store needs a database")
		}
		c, err := newDBCounter(context.Background(), db.SQL, db.Dialect)
		if err != nil {
			return nil, nil, err
		}
		synced = newSyncedCounter(c, cfg.Sync, warn.warn)
		counter = synced
	case StoreMemory:
		counter = httprate.NewLocalLimitCounter(cfg.Window)
	default:
		return nil, nil, fmt.Errorf("ratelimit: unknown store %q (want %q or %q)", cfg.Store, StoreDatabase, StoreMemory)
	}

	retry := retryAfter(cfg.Window)
	l := &limiter{
		seed:       maphash.MakeSeed(),
		retry:      retry,
		retryValue: strconv.Itoa(int(retry / time.Second)),
		onLimit:    cfg.OnLimit,
	}
	if l.onLimit == nil {
		l.onLimit = func(w http.ResponseWriter, r *http.Request, d time.Duration) {
			refusal.Write(w, r, refusal.RateLimitedAfter(d))
		}
	}
	headers := httprate.ResponseHeaders{
		Limit:     "X-RateLimit-Limit",
		Remaining: "X-RateLimit-Remaining",
		Increment: "X-RateLimit-Increment",
		Reset:     "X-RateLimit-Reset",
		// Retry-After is set here, in whole seconds of at least 1;
		// httprate would write 0 for windows under a second.
		RetryAfter: "",
	}
	for i := range l.shards {
		l.shards[i] = httprate.NewRateLimiter(cfg.Requests, cfg.Window,
			httprate.WithLimitCounter(counter),
			httprate.WithResponseHeaders(headers),
			httprate.WithErrorHandler(func(http.ResponseWriter, *http.Request, error) {}),
		)
	}
	return l.handler, synced, nil
}

type limiter struct {
	shards     [shards]*httprate.RateLimiter
	seed       maphash.Seed
	retry      time.Duration
	retryValue string
	onLimit    func(http.ResponseWriter, *http.Request, time.Duration)
}

func (l *limiter) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := Key(r)
		rl := l.shards[maphash.String(l.seed, key)%shards]
		// OnLimit checks the rate and, when the request is allowed, counts
		// it. Its only other way of saying true is a counter error, which
		// cannot happen: neither counter returns errors (the synced one
		// logs them).
		if !rl.OnLimit(w, r, key) {
			next.ServeHTTP(w, r)
			return
		}
		observe.FromContext(r.Context()).Limited(observe.LimitRate)
		h := w.Header()
		// Across replicas the count may overshoot the limit (see the
		// package comment); never advertise a negative remainder.
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("Retry-After", l.retryValue)
		l.onLimit(w, r, l.retry)
	})
}

// retryAfter is the window rounded up to whole seconds, at least one.
func retryAfter(window time.Duration) time.Duration {
	s := int64(math.Ceil(window.Seconds()))
	return time.Duration(max(1, s)) * time.Second
}

// Key returns the rate-limit key of r's caller: kind+":"+ID for an
// authenticated viewer, "ip:"+address otherwise (an IPv6 address as its /64).
// It has the shape of an httprate.KeyFunc minus the error.
func Key(r *http.Request) string {
	if v := access.FromContext(r.Context()); v != nil {
		return string(v.Kind) + ":" + v.ID.String()
	}
	if a := middleware.GetClientIPAddr(r.Context()); a.IsValid() {
		return "ip:" + canonicalIP(a)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr // middleware.RealIP stores a bare address
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return "ip:" + canonicalIP(a)
	}
	return "ip:" + host
}

func canonicalIP(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// warnEvery is the least time between two warnings of one middleware.
var warnEvery = 10 * time.Second

// warner logs database failures at warn level, at most once per warnEvery,
// counting the ones it leaves out.
type warner struct {
	next       atomic.Int64 // Unix nanoseconds before which nothing is logged
	suppressed atomic.Int64
}

func (w *warner) warn(op string, err error) {
	now := time.Now().UnixNano()
	next := w.next.Load()
	if now < next || !w.next.CompareAndSwap(next, now+int64(warnEvery)) {
		w.suppressed.Add(1)
		return
	}
	slog.Warn("rate limiting: the shared counter table failed; each replica limits on its own counts until it answers",
		"op", op, "err", err, "suppressed", w.suppressed.Swap(0))
}
