package store_test

import (
	"context"
	"testing"
	"time"

	"custgraph/internal/notify"
	"custgraph/internal/testdb"
)

// TestSignalsReachTheOtherReplicaOnce: a signal committed through replica a
// is published on a once (at its commit; its echo through a's LISTEN is
// skipped) and reaches replica b with its payload intact.
func TestSignalsReachTheOtherReplicaOnce(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("one process on SQLite: no LISTEN; set " + testdb.Env)
	}
	a, _, dsn := testdb.OpenDSN(t)
	b, _ := testdb.Reopen(t, dsn)
	ctx := context.Background()
	onA, onB := make(chan string, 16), make(chan string, 16)
	defer a.Hub.Subscribe(notify.Callers, func(e notify.Event) { onA <- e.Payload })()
	defer b.Hub.Subscribe(notify.Callers, func(e notify.Event) { onB <- e.Payload })()

	tx, err := a.Client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := notify.Send(ctx, tx, notify.Callers, "x"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Fences: a signal committed after another reaches a listener after
	// it, so what a replica publishes before the other's fence is all it
	// publishes of the signals committed earlier.
	until := func(ch chan string, who, fence string) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for {
			select {
			case p := <-ch:
				if p == fence {
					return seen
				}
				seen[p]++
			case <-time.After(10 * time.Second):
				t.Fatalf("replica %s: no %q within 10 s (saw %v)", who, fence, seen)
			}
		}
	}
	if err := notify.Send(ctx, b.Client, notify.Callers, "fence-b"); err != nil {
		t.Fatal(err)
	}
	if seen := until(onA, "a", "fence-b"); len(seen) != 1 || seen["x"] != 1 {
		t.Errorf("replica a published %v before b's fence, want x once: its own signal came back", seen)
	}
	if err := notify.Send(ctx, a.Client, notify.Callers, "fence-a"); err != nil {
		t.Fatal(err)
	}
	if seen := until(onB, "b", "fence-a"); len(seen) != 2 || seen["x"] != 1 || seen["fence-b"] != 1 {
		t.Errorf("replica b published %v before a's fence, want a's x and its own fence-b once each", seen)
	}
}
