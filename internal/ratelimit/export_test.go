package ratelimit

import (
	"context"
	"time"

	"github.com/go-chi/httprate"

	"custgraph/internal/store"
)

// NewDBCounter exposes the database counter to the tests, configured for
// window.
func NewDBCounter(db *store.DB, window time.Duration) (httprate.LimitCounter, error) {
	c, err := newDBCounter(context.Background(), db.SQL, db.Dialect)
	if err != nil {
		return nil, err
	}
	c.Config(0, window)
	return c, nil
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
