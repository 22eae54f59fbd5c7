package testdb

import (
	"database/sql"
	"testing"
	"time"
)

// WaitForLockWaiter returns once a session of db's PostgreSQL database is
// waiting for a lock another transaction holds (pg_stat_activity), so a
// test can order two transactions without guessing how long the second
// takes to reach the lock. It fails the test when none waits within 30 s.
func WaitForLockWaiter(t testing.TB, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Fatalf("reading pg_stat_activity: %v", err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no session waited for a lock within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
