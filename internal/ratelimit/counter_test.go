package ratelimit_test

import (
	"net/http"
	"testing"
	"time"

	"custgraph/internal/ratelimit"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// rows is how many counter rows the database holds for window start w.
func rows(t *testing.T, db *store.DB, w time.Time) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(rebind(db, `SELECT COUNT(*) FROM rate_limit_counters WHERE window_start = ?`), w.UnixMilli()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDatabaseCounterWindows(t *testing.T) {
	db, _ := testdb.Open(t)
	c, err := ratelimit.NewDBCounter(db, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	w0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w1, w2, w3 := w0.Add(time.Minute), w0.Add(2*time.Minute), w0.Add(3*time.Minute)
	get := func(key string, cur, prev time.Time) (int, int) {
		t.Helper()
		c, p, err := c.Get(key, cur, prev)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return c, p
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	if c, p := get("k", w1, w0); c != 0 || p != 0 {
		t.Fatalf("empty table: Get = %d, %d, want 0, 0", c, p)
	}
	must(c.Increment("k", w0))
	must(c.IncrementBy("k", w0, 1))
	must(c.IncrementBy("k", w1, 3))
	must(c.Increment("other", w1))
	if c, p := get("k", w1, w0); c != 3 || p != 2 {
		t.Errorf("Get(k, w1, w0) = %d, %d, want 3, 2", c, p)
	}
	if c, p := get("k", w2, w1); c != 0 || p != 3 {
		t.Errorf("Get(k, w2, w1) = %d, %d, want 0, 3", c, p)
	}
	if c, p := get("other", w1, w0); c != 1 || p != 0 {
		t.Errorf("Get(other, w1, w0) = %d, %d, want 1, 0", c, p)
	}

	// The first increment in w2 deletes the windows before w1.
	if rows(t, db, w0) != 1 {
		t.Fatalf("w0 has no row before the cleanup")
	}
	must(c.Increment("k", w2))
	if n := rows(t, db, w0); n != 0 {
		t.Errorf("w0 still has %d rows after the cleanup in w2", n)
	}
	if n := rows(t, db, w1); n != 2 {
		t.Errorf("w1 has %d rows, want 2: the previous window is kept", n)
	}
	// Not again in the same window: a stale row written now survives...
	must(c.Increment("late", w0))
	must(c.Increment("k", w2))
	if n := rows(t, db, w0); n != 1 {
		t.Errorf("w0 has %d rows, want 1: cleanup ran twice in one window", n)
	}
	// ...until the next window.
	must(c.Increment("k", w3))
	if n := rows(t, db, w0) + rows(t, db, w1); n != 0 {
		t.Errorf("%d rows before w2 left after the cleanup in w3", n)
	}
	if c, p := get("k", w3, w2); c != 1 || p != 2 {
		t.Errorf("Get(k, w3, w2) = %d, %d, want 1, 2", c, p)
	}
}

// TestThePreviousWindowCounts seeds the previous window as another replica
// would have filled it: its count, weighted by the part of it the sliding
// window still covers, refuses the request.
func TestThePreviousWindowCounts(t *testing.T) {
	db, _ := testdb.Open(t)
	rp := newReplica(t, db, ratelimit.Config{Requests: 1, Window: window})
	v := client("a")
	c, err := ratelimit.NewDBCounter(db, window)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Truncate(window)
	// So large that any weight but the last few microseconds' refuses.
	if err := c.IncrementBy("client:"+v.ID.String(), before.Add(-window), 1<<30); err != nil {
		t.Fatal(err)
	}
	rec := rp.do(v, "192.0.2.1:1")
	if after := time.Now().UTC().Truncate(window); after != before {
		t.Skip("crossed a window boundary; the seeded window is no longer the previous one")
	}
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429: the previous window's requests were ignored", rec.Code)
	}
	if rp.calls.Load() != 0 {
		t.Errorf("the handler ran")
	}
}
