package server

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// outageLog writes the log lines of requests failed by an outage (the
// database unreachable, store.Outage), a bounded number of them: the
// first request of an outage is logged at error level with its cause;
// then at most one request line every interval, at warning level, which
// says how many failed requests were left out since the line before
// ("suppressed"); and when a request reaches the database again, one
// line says the outage is over and how many requests it failed. So a
// 14-second outage under any load logs about 14/interval + 2 lines, not
// one or two per request.
type outageLog struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	mu         sync.Mutex
	active     bool      // an outage is under way
	since      time.Time // its first failed request
	next       time.Time // before it, failed requests are counted, not logged
	suppressed int       // failed requests not logged since the last line
	failed     int       // failed requests of the outage
}

// failedRequest logs (or counts) one request failed by an outage; attrs
// are its access-log attributes.
func (o *outageLog) failedRequest(ctx context.Context, cause string, attrs []any) {
	o.mu.Lock()
	now := o.now()
	o.failed++
	first := !o.active
	if first {
		o.active, o.since = true, now
	}
	if !first && now.Before(o.next) {
		o.suppressed++
		o.mu.Unlock()
		return
	}
	o.next = now.Add(o.interval)
	suppressed := o.suppressed
	o.suppressed = 0
	since := o.since
	o.mu.Unlock()
	attrs = append(attrs, "unavailable", cause)
	if first {
		o.log.ErrorContext(ctx, "request failed: the database is unavailable; answering 503 until it is back",
			append(attrs, "log_every", o.interval.String())...)
		return
	}
	o.log.WarnContext(ctx, "request failed: the database is still unavailable",
		append(attrs, "suppressed", suppressed, "outage_s", now.Sub(since).Round(time.Second).Seconds())...)
}

// reached notes a request that reached the database: an outage under way
// is over.
func (o *outageLog) reached(ctx context.Context) {
	o.mu.Lock()
	if !o.active {
		o.mu.Unlock()
		return
	}
	now := o.now()
	failed, suppressed, since := o.failed, o.suppressed, o.since
	o.active, o.failed, o.suppressed = false, 0, 0
	o.mu.Unlock()
	o.log.InfoContext(ctx, "the database is reachable again",
		"failed_requests", failed, "suppressed", suppressed, "outage_s", now.Sub(since).Round(time.Second).Seconds())
}
