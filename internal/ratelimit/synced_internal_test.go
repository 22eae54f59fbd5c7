package ratelimit

import (
	"context"
	"testing"
	"time"

	"custgraph/internal/testdb"
)

// TestAKeyDroppedWhileReadIsKeptAndSyncs: a caller's first request waits
// for its counts to be read from the table (here: locked), and the start of
// a new window's cleanup drops the caller's key meanwhile (not touched
// yet). The request's key must stay in the view: it was marked touched
// without being in it, and the next sync dereferenced a missing key and
// ended the process (a review of 9c78b59).
func TestAKeyDroppedWhileReadIsKeptAndSyncs(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite's readers do not wait for a lock; set " + testdb.Env)
	}
	defer SetDBTimeout(time.Hour)()
	oldWait := readWait
	readWait = time.Hour // (the request waits for the read: the cleanup below comes within its wait)
	defer func() { readWait = oldWait }()
	db, _ := testdb.Open(t)
	table, err := newDBCounter(context.Background(), db.SQL, db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	const window = time.Minute
	c := newSyncedCounter(table, time.Hour, func(string, error) {})
	c.Config(0, window)
	lock, err := db.SQL.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec("LOCK TABLE rate_limit_counters IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = c.Get("caller", now.Truncate(window), now.Truncate(window).Add(-window))
	}()
	for waiting := 0; waiting == 0; time.Sleep(time.Millisecond) { // (the read waits on the lock, with its hour)
		if err := db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE 'SELECT%rate_limit_counters%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	dbTimeout = 10 * time.Millisecond // (cleanup's DELETE gives up on the lock)
	c.cleanup(now.Add(2 * window))
	if err := lock.Rollback(); err != nil { // the read answers, and the request goes on
		t.Fatal(err)
	}
	<-done
	dbTimeout = time.Second
	c.mu.Lock()
	_, kept := c.keys["caller"]
	c.mu.Unlock()
	if !kept {
		t.Error("the caller's key is not in the view after its request")
	}
	c.Sync(context.Background()) // (panicked on the missing key)
}
