package ratelimit_test

import (
	"context"
	"fmt"
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
	w0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w1, w2, w3 := w0.Add(time.Minute), w0.Add(2*time.Minute), w0.Add(3*time.Minute)
	clock := w1.Add(30 * time.Second)
	now := func() time.Time { return clock }
	replica := func() ratelimit.SyncedCounter {
		c, err := ratelimit.NewDBCounter(db, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ratelimit.SetClock(c, now)
		return c
	}
	c, c2 := replica(), replica()
	get := func(c ratelimit.SyncedCounter, key string, cur, prev time.Time) (int, int) {
		t.Helper()
		n, p, err := c.Get(key, cur, prev)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return n, p
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sync := func(c ratelimit.SyncedCounter) { c.Sync(context.Background()) }

	if n, p := get(c, "k", w1, w0); n != 0 || p != 0 {
		t.Fatalf("empty table: Get = %d, %d, want 0, 0", n, p)
	}
	must(c.Increment("k", w0))
	must(c.IncrementBy("k", w0, 1))
	must(c.IncrementBy("k", w1, 3))
	must(c.Increment("other", w1))
	// Counted in the replica's view at once, in the table at the sync.
	if n, p := get(c, "k", w1, w0); n != 3 || p != 2 {
		t.Errorf("Get(k, w1, w0) = %d, %d, want 3, 2", n, p)
	}
	if rows(t, db, w0)+rows(t, db, w1) != 0 {
		t.Fatalf("the table was written before the sync")
	}
	sync(c)
	if n, m := rows(t, db, w0), rows(t, db, w1); n != 1 || m != 2 {
		t.Fatalf("after the sync: %d rows in w0, %d in w1, want 1 and 2", n, m)
	}
	if n, p := get(c, "k", w1, w0); n != 3 || p != 2 {
		t.Errorf("after the sync: Get(k, w1, w0) = %d, %d, want 3, 2", n, p)
	}

	// Another replica reads the table on first sight and adds to it; the
	// first learns it at its next sync.
	if n, p := get(c2, "k", w1, w0); n != 3 || p != 2 {
		t.Errorf("second replica: Get(k, w1, w0) = %d, %d, want 3, 2", n, p)
	}
	must(c2.IncrementBy("k", w1, 2))
	sync(c2)
	get(c, "k", w1, w0)
	sync(c)
	if n, p := get(c, "k", w1, w0); n != 5 || p != 2 {
		t.Errorf("after both syncs: Get(k, w1, w0) = %d, %d, want 5, 2", n, p)
	}

	// The first sync in w2 deletes the windows before w1.
	clock = w2.Add(time.Second)
	must(c.Increment("k", w2))
	sync(c)
	if n := rows(t, db, w0); n != 0 {
		t.Errorf("w0 still has %d rows after the cleanup in w2", n)
	}
	if n := rows(t, db, w1); n != 2 {
		t.Errorf("w1 has %d rows, want 2: the previous window is kept", n)
	}
	if n, p := get(c, "k", w2, w1); n != 1 || p != 5 {
		t.Errorf("Get(k, w2, w1) = %d, %d, want 1, 5", n, p)
	}
	// In w3 the table keeps w2 only, and the replica forgets "other",
	// unused since w1.
	if ratelimit.Keys(c) != 2 {
		t.Fatalf("the replica holds %d callers, want 2", ratelimit.Keys(c))
	}
	clock = w3.Add(time.Second)
	sync(c)
	if n := rows(t, db, w1); n != 0 {
		t.Errorf("%d rows of w1 left after the cleanup in w3", n)
	}
	if ratelimit.Keys(c) != 1 {
		t.Errorf("the replica holds %d callers after w3's cleanup, want 1 (k)", ratelimit.Keys(c))
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
	c.Sync(context.Background())
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

// TestASyncOfManyCallers: a sync of more callers than one statement takes
// (batches of 500) adds every count, in one transaction.
func TestASyncOfManyCallers(t *testing.T) {
	db, _ := testdb.Open(t)
	c, err := ratelimit.NewDBCounter(db, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Hour)
	for i := range 1200 {
		if err := c.IncrementBy(fmt.Sprintf("k%04d", i), now, i%3+1); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Sync(context.Background()); n != 1200 {
		t.Fatalf("synced %d keys, want 1200", n)
	}
	if got := rows(t, db, now); got != 1200 {
		t.Errorf("%d rows in the window, want 1200", got)
	}
	var sum int
	if err := db.SQL.QueryRow(`SELECT SUM(count) FROM rate_limit_counters`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 2400 { // 400 × (1 + 2 + 3)
		t.Errorf("the counts add up to %d, want 2400", sum)
	}
}
