package entbatch_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/internal/entbatch"
)

// fakeDriver runs each load's statements: a statement that joins a batch
// is answered by exec, which records the batches it was given; one that
// does not is recorded as run alone.
type fakeDriver struct {
	batches bool
	mu      sync.Mutex
	sent    [][]string // each batch's statements, in their order
	alone   []string
}

func (d *fakeDriver) Batches() bool { return d.batches }

func (d *fakeDriver) exec(_ context.Context, reqs []*entbatch.Request) {
	var qs []string
	for _, r := range reqs {
		qs = append(qs, r.SQL)
	}
	d.mu.Lock()
	d.sent = append(d.sent, qs)
	d.mu.Unlock()
	for _, r := range reqs {
		if r.SQL == "fail" {
			r.Err = errors.New("statement failed")
		} else {
			r.Rows = "rows of " + r.SQL
		}
		r.Deliver()
	}
}

// query is what a driver's Query does: join the batch or run alone.
func (d *fakeDriver) query(ctx context.Context, q string) (any, error) {
	if r, ok := entbatch.Join(ctx, q, nil, d.exec); ok {
		return r.Rows, r.Err
	}
	d.mu.Lock()
	d.alone = append(d.alone, q)
	d.mu.Unlock()
	return "rows of " + q, nil
}

// load runs its statements in order.
func (d *fakeDriver) load(statements ...string) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, q := range statements {
			rows, err := d.query(ctx, q)
			if err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
			if rows != "rows of "+q {
				return fmt.Errorf("%s got %v", q, rows)
			}
		}
		return nil
	}
}

func TestFirstStatementsTravelTogether(t *testing.T) {
	d := &fakeDriver{batches: true}
	err := entbatch.Run(context.Background(), d,
		d.load("products", "products' own edge"),
		d.load(), // an edge with nothing to load (no parent row had a key, say)
		d.load("addresses"),
		d.load("tax residences", "their edge", "another"),
	)
	require.NoError(t, err)
	require.Len(t, d.sent, 1, "one batch")
	got := d.sent[0]
	sort.Strings(got)
	require.Equal(t, []string{"addresses", "products", "tax residences"}, got)
	sort.Strings(d.alone)
	require.Equal(t, []string{"another", "products' own edge", "their edge"}, d.alone, "later statements run alone")
}

func TestOneAfterTheOtherWhereTheDriverDoesNotBatch(t *testing.T) {
	for _, d := range []*fakeDriver{{batches: false}, {batches: true}} {
		loads := []func(context.Context) error{d.load("products", "more")}
		if !d.batches {
			loads = append(loads, d.load("addresses"))
		}
		require.NoError(t, entbatch.Run(context.Background(), d, loads...))
		require.Empty(t, d.sent, "batches=%v", d.batches)
		require.Equal(t, []string{"products", "more", "addresses"}[:len(d.alone)], d.alone, "in the loads' order")
	}
	// A driver that is no Batcher at all (a transaction's).
	d := &fakeDriver{batches: true}
	require.NoError(t, entbatch.Run(context.Background(), struct{}{}, d.load("products"), d.load("addresses")))
	require.Empty(t, d.sent)
	require.Equal(t, []string{"products", "addresses"}, d.alone)
}

func TestAFailedMemberFailsTheRunOnly(t *testing.T) {
	d := &fakeDriver{batches: true}
	err := entbatch.Run(context.Background(), d, d.load("products"), d.load("fail"), d.load("addresses"))
	require.EqualError(t, err, "fail: statement failed")
	require.Len(t, d.sent, 1)
	require.Len(t, d.sent[0], 3)

	// A load's own error, in the loads' order, whoever finished first.
	first, second := errors.New("first"), errors.New("second")
	err = entbatch.Run(context.Background(), d,
		func(ctx context.Context) error { _, _ = d.query(ctx, "products"); return first },
		func(context.Context) error { return second })
	require.ErrorIs(t, err, first)
}

func TestAPanicInALoadReachesTheCaller(t *testing.T) {
	d := &fakeDriver{batches: true}
	require.PanicsWithValue(t, "boom", func() {
		_ = entbatch.Run(context.Background(), d,
			d.load("products"),
			func(context.Context) error { panic("boom") })
	})
	require.Len(t, d.sent, 1, "the other member's statement was still sent")
}

// Nested runs: a member's own loads form a group of their own.
func TestNestedRunsFormTheirOwnGroups(t *testing.T) {
	d := &fakeDriver{batches: true}
	nested := func(ctx context.Context) error {
		if err := d.load("customers")(ctx); err != nil {
			return err
		}
		return entbatch.Run(ctx, d, d.load("products"), d.load("addresses"))
	}
	require.NoError(t, entbatch.Run(context.Background(), d, nested, d.load("bank")))
	require.Len(t, d.sent, 2)
	for _, b := range d.sent {
		sort.Strings(b)
	}
	sort.Slice(d.sent, func(i, j int) bool { return d.sent[i][0] < d.sent[j][0] })
	require.Equal(t, [][]string{{"addresses", "products"}, {"bank", "customers"}}, d.sent)
}

// The batch holds the statements in the loads' order, whatever the order
// the members joined in: the first load's statement (WithRow's row) is
// sent first, so that no later one's failure can fail it.
func TestTheBatchKeepsTheLoadsOrder(t *testing.T) {
	d := &fakeDriver{batches: true}
	late := func(ctx context.Context) error {
		time.Sleep(20 * time.Millisecond) // (joins last, most likely; the order holds either way)
		return d.load("first")(ctx)
	}
	require.NoError(t, entbatch.Run(context.Background(), d, late, d.load("second"), d.load("third")))
	require.Equal(t, [][]string{{"first", "second", "third"}}, d.sent)
}

// goroutineID is the id runtime.Stack prints for the calling goroutine.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}

// TestLoadsReuseIdleWorkers: the goroutine that ran a load runs the next
// Run's load (its stack has grown already), and no more than
// MaxIdleWorkers() goroutines stay once many Runs at once are over.
func TestLoadsReuseIdleWorkers(t *testing.T) {
	d := &fakeDriver{batches: true}
	ran := func(id *string) func(context.Context) error {
		return func(ctx context.Context) error {
			*id = goroutineID()
			return d.load("x")(ctx)
		}
	}
	var first, second string
	idleBefore := entbatch.IdleWorkers()
	require.NoError(t, entbatch.Run(context.Background(), d, d.load("a"), ran(&first)))
	// (the worker makes itself idle just after its load is done)
	require.Eventually(t, func() bool { return entbatch.IdleWorkers() >= max(idleBefore, 1) },
		5*time.Second, time.Millisecond)
	require.NoError(t, entbatch.Run(context.Background(), d, d.load("a"), ran(&second)))
	require.NotEqual(t, goroutineID(), first)
	require.Equal(t, first, second, "the second load ran on the first one's goroutine")

	before := runtime.NumGoroutine()
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 * entbatch.MaxIdleWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait := func(ctx context.Context) error { <-release; return d.load("y")(ctx) }
			require.NoError(t, entbatch.Run(context.Background(), d, wait, wait, wait))
		}()
	}
	time.Sleep(50 * time.Millisecond) // (every Run under way: its workers started)
	close(release)
	wg.Wait()
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+entbatch.MaxIdleWorkers() },
		5*time.Second, 10*time.Millisecond, "goroutines: %d, before %d", runtime.NumGoroutine(), before)
}
