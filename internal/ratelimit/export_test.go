package ratelimit

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/httprate"

	"custgraph/internal/store"
)

// SyncedCounter is the database store's counter, with its sync.
type SyncedCounter interface {
	httprate.LimitCounter
	// Sync reconciles the counter with the table now; it returns how many
	// keys it synced.
	Sync(ctx context.Context) int
}

// NewDBCounter exposes the database store's counter to the tests,
// configured for window. Its background loop never ticks within a test:
// the tests sync it themselves.
func NewDBCounter(db *store.DB, window time.Duration) (SyncedCounter, error) {
	t, err := newDBCounter(context.Background(), db.SQL, db.Dialect)
	if err != nil {
		return nil, err
	}
	c := newSyncedCounter(t, time.Hour, func(string, error) {})
	c.Config(0, window)
	return c, nil
}

// NewWithSync is New that also returns a function syncing the database
// store's counter now (a no-op for the memory store).
func NewWithSync(db *store.DB, cfg Config) (func(http.Handler) http.Handler, func(), error) {
	mw, c, err := build(db, cfg)
	if err != nil || c == nil {
		return mw, func() {}, err
	}
	return mw, func() { c.Sync(context.Background()) }, nil
}

// RetryAfter exposes the rounding of the window to Retry-After.
func RetryAfter(window time.Duration) time.Duration { return retryAfter(window) }

// SetWarnEvery changes how often failures are logged, for the duration of a
// test; it returns the function restoring the old value.
func SetWarnEvery(d time.Duration) (restore func()) {
	old := warnEvery
	warnEvery = d
	return func() { warnEvery = old }
}

// SetClock makes c read the time from now (its window cleanup, its view's
// age).
func SetClock(c SyncedCounter, now func() time.Time) { c.(*syncedCounter).now = now }

// Keys is how many callers c holds a view of.
func Keys(c SyncedCounter) int {
	s := c.(*syncedCounter)
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// SetDBTimeout sets the bound of the counter's statements until restore is
// called.
func SetDBTimeout(d time.Duration) (restore func()) {
	old := dbTimeout
	dbTimeout = d
	return func() { dbTimeout = old }
}
