package ratelimit

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"custgraph/internal/observe"
	"custgraph/internal/refusal"
)

// Concurrency bounds how many requests run at once: per caller (the Key of
// the rate limit: a client or user, or an IP before authentication) and in
// all. A request beyond either bound is refused at once with 429 and
// Retry-After, before any work: one caller sending many expensive requests
// in parallel holds at most PerCaller of the server's workers, and the
// others' requests keep being served.
//
// Of the requests let in, at most Running execute at once; the others wait
// their turn in arrival order (until their context ends: then they are
// refused like the others). On a server with few cores, running more
// requests at once than the CPUs can serve only adds memory (every request
// in flight holds its answer being built) and latency.
//
// The bounds are per replica: they protect this process's CPU and memory,
// which is what concurrency uses up. (The rate limit, which bounds what a
// caller may ask of the whole deployment, is shared by the replicas.)
type ConcurrencyConfig struct {
	// PerCaller is how many requests one caller may have in flight; 0 or
	// less: no bound.
	PerCaller int
	// Total is how many requests may be in flight in all, running or
	// waiting; 0 or less: no bound.
	Total int
	// Running is how many requests may execute at once; 0 or less: no
	// bound.
	Running int
	// Exempt, when set, picks the requests the bounds do not count: a
	// subscription's stream (graph.IsLive), open for as long as its client
	// keeps it and idle between events, would hold a place and a turn the
	// whole time (16 open SSE subscriptions kept every other caller's
	// request waiting). Those have bounds of their own (graph.Live).
	Exempt func(*http.Request) bool
	// RetryAfter is the delay suggested to a refused caller; default 1 s.
	RetryAfter time.Duration
	// OnLimit writes the refusal (Retry-After is already set); nil writes
	// the 429 of the request's door (refusal.Write:
	// TOO_MANY_CONCURRENT_REQUESTS in its format).
	OnLimit func(w http.ResponseWriter, r *http.Request, retryAfter time.Duration)
}

// Concurrency returns the middleware of cfg. Mount it after
// authentication, so that requests are counted against their caller.
func Concurrency(cfg ConcurrencyConfig) func(http.Handler) http.Handler {
	if cfg.PerCaller <= 0 && cfg.Total <= 0 && cfg.Running <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.OnLimit == nil {
		cfg.OnLimit = func(w http.ResponseWriter, r *http.Request, d time.Duration) {
			refusal.Write(w, r, refusal.TooManyConcurrentAfter(d))
		}
	}
	g := &gate{cfg: cfg, inFlight: map[string]int{}}
	if cfg.Running > 0 {
		g.running = semaphore.NewWeighted(int64(cfg.Running))
	}
	retry := strconv.Itoa(max(1, int(cfg.RetryAfter/time.Second)))
	refuse := func(w http.ResponseWriter, r *http.Request, limit string) {
		observe.FromContext(r.Context()).Limited(limit)
		w.Header().Set("Retry-After", retry)
		cfg.OnLimit(w, r, cfg.RetryAfter)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cfg.Exempt != nil && cfg.Exempt(r) {
				next.ServeHTTP(w, r)
				return
			}
			key := Key(r)
			if limit := g.enter(key); limit != "" {
				refuse(w, r, limit)
				return
			}
			defer g.leave(key)
			if g.running != nil {
				if err := g.running.Acquire(r.Context(), 1); err != nil {
					refuse(w, r, observe.LimitQueue) // its time ran out, or its client left, while it waited
					return
				}
				defer g.running.Release(1)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// gate counts the requests in flight.
type gate struct {
	cfg      ConcurrencyConfig
	running  *semaphore.Weighted // FIFO
	mu       sync.Mutex
	total    int
	inFlight map[string]int // only callers with requests in flight
}

// enter admits a request of key's caller and returns "", or returns the
// bound it would exceed (observe.LimitTotalConcurrency,
// observe.LimitCallerConcurrency).
func (g *gate) enter(key string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.cfg.Total > 0 && g.total >= g.cfg.Total:
		return observe.LimitTotalConcurrency
	case g.cfg.PerCaller > 0 && g.inFlight[key] >= g.cfg.PerCaller:
		return observe.LimitCallerConcurrency
	}
	g.total++
	g.inFlight[key]++
	return ""
}

func (g *gate) leave(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.inFlight[key]--; g.inFlight[key] <= 0 {
		delete(g.inFlight, key)
	}
}
