// Package entbatch runs the eager loads of one ent query (a page's
// products and its addresses, say) together, so that a driver that can
// pipeline (PostgreSQL through pgx: internal/store) sends their statements
// to the database in one round trip instead of one each.
//
// The generated sqlAll of every entity (ent/entc.go, loadsTogether) hands
// its loads, one function per edge, to Loads, or, when it reads the row of
// a known id, to WithRow with the row's own statement; a connection's
// count runs with its page (ent/template/gql_pagination.tmpl), and the
// REST doors run reads of their own together through Run (rest/bsai's
// first page). On a driver that batches, each
// load runs on a goroutine of its own (a kept idle one when there is one,
// see spawn) as a member of one Group. The first
// statement of each member joins the group's batch (Join); once every
// member has joined or finished without a statement, the last one to do
// so has the driver send the whole batch, and each member gets its rows
// in turn. A member's later statements run as usual, alone.
//
// Anywhere else (SQLite, a transaction, a single load) Run calls the loads
// one after the other, as ent does.
package entbatch

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Batcher is implemented by drivers that send a group's statements as one
// batch (see Join).
type Batcher interface {
	Batches() bool
}

// Run runs loads, together when drv batches and there are several (see the
// package's doc), else one after the other. It returns the first error of
// the loads, in their order; a panic in a load is raised again in the
// caller's goroutine.
func Run(ctx context.Context, drv any, loads ...func(context.Context) error) error {
	b, ok := drv.(Batcher)
	if len(loads) < 2 || !ok || !b.Batches() {
		for _, load := range loads {
			if err := load(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	g := &Group{waiting: int32(len(loads))}
	var (
		wg     sync.WaitGroup
		errs   = make([]error, len(loads))
		panics = make([]any, len(loads))
	)
	wg.Add(len(loads) - 1)
	for i := 1; i < len(loads); i++ {
		spawn(func() {
			defer wg.Done()
			errs[i], panics[i] = g.run(ctx, i, loads[i])
		})
	}
	errs[0], panics[0] = g.run(ctx, 0, loads[0])
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Group is the batch of one Run: the first statement of each member.
type Group struct {
	mu      sync.Mutex
	waiting int32      // members that have neither joined nor left
	reqs    []*Request // joined, in the order they joined
	exec    Exec       // the first joiner's driver's
}

// Exec sends reqs as one batch and delivers each one's result (Deliver),
// in their order. It may return before all are delivered: a driver that
// reads the results from one connection delivers the next when the
// previous member is done with its rows.
type Exec func(ctx context.Context, reqs []*Request)

// Request is one member's statement in the batch.
type Request struct {
	SQL  string
	Args []any
	// Rows and Err are the driver's result, set before Deliver.
	Rows  any
	Err   error
	index int // the member's
	done  chan struct{}
}

// Deliver hands r's result (Rows or Err) to the member waiting in Join.
func (r *Request) Deliver() { close(r.done) }

type memberKey struct{}

type member struct {
	g     *Group
	index int          // the load's, in Run's order
	state atomic.Int32 // fresh, joined or left
}

const (
	fresh int32 = iota
	joined
	left
)

func (g *Group) run(ctx context.Context, index int, load func(context.Context) error) (err error, panicked any) {
	m := &member{g: g, index: index}
	defer func() {
		if p := recover(); p != nil {
			panicked = p
			if err == nil {
				err = fmt.Errorf("entbatch: load panicked: %v", p)
			}
		}
		m.leave(ctx)
	}()
	return load(context.WithValue(ctx, memberKey{}, m)), nil
}

// Join makes the statement (q, args) the batch's, when ctx is that of a
// member that has not run a statement yet (else ok is false: run it
// alone). It returns once exec (the driver's) delivered its result.
// Whoever completes the group runs exec, with the first joiner's exec.
func Join(ctx context.Context, q string, args []any, exec Exec) (r *Request, ok bool) {
	m, _ := ctx.Value(memberKey{}).(*member)
	if m == nil || !m.state.CompareAndSwap(fresh, joined) {
		return nil, false
	}
	r = &Request{SQL: q, Args: args, index: m.index, done: make(chan struct{})}
	g := m.g
	g.mu.Lock()
	g.reqs = append(g.reqs, r)
	if g.exec == nil {
		g.exec = exec
	}
	g.waiting--
	run := g.take()
	g.mu.Unlock()
	if run != nil {
		g.exec(ctx, run)
	}
	<-r.done
	return r, true
}

// leave ends a member that joined (nothing to do: its statement is in the
// batch) or never ran a statement (the group no longer waits for it).
func (m *member) leave(ctx context.Context) {
	if !m.state.CompareAndSwap(fresh, left) {
		return
	}
	g := m.g
	g.mu.Lock()
	g.waiting--
	run := g.take()
	g.mu.Unlock()
	if run != nil {
		g.exec(ctx, run)
	}
}

// take returns the batch to send, once no member is still expected (g.mu
// held), in the loads' order whatever the order they joined in: a
// statement that fails on PostgreSQL fails those after it in the batch,
// so the first load's (WithRow's row) comes first, and what a request
// meets does not depend on the goroutines' timing.
func (g *Group) take() []*Request {
	if g.waiting > 0 || len(g.reqs) == 0 {
		return nil
	}
	run := g.reqs
	g.reqs = nil
	slices.SortFunc(run, func(a, b *Request) int { return a.index - b.index })
	return run
}

// Batches reports whether drv sends a group's statements as one batch.
func Batches(drv any) bool {
	b, ok := drv.(Batcher)
	return ok && b.Batches()
}

// Loads runs a query's loads on its nodes (Run).
func Loads[N any](ctx context.Context, drv any, nodes []N, loads []func(context.Context, []N) error) error {
	switch len(loads) {
	case 0:
		return nil
	case 1:
		return loads[0](ctx, nodes)
	}
	fns := make([]func(context.Context) error, len(loads))
	for i, load := range loads {
		fns[i] = func(ctx context.Context) error { return load(ctx, nodes) }
	}
	return Run(ctx, drv, fns...)
}

// WithRow runs query, which reads the row of a known id, together with
// loads on stand, a stand-in for that row with its id, so that the
// statements of both travel in one batch, the row's first (so that no
// load's failure can fail it). It returns query's error; nil
// when the row is not there (found reports false), whatever the loads
// met: nothing of theirs is used then; else the loads' first error.
func WithRow[N any](ctx context.Context, drv any, query func(context.Context) error, found func() bool, stand N, loads []func(context.Context, []N) error) error {
	var queryErr error
	fns := make([]func(context.Context) error, 0, 1+len(loads))
	fns = append(fns, func(ctx context.Context) error {
		queryErr = query(ctx)
		return queryErr
	})
	nodes := []N{stand}
	for _, load := range loads {
		fns = append(fns, func(ctx context.Context) error { return load(ctx, nodes) })
	}
	err := Run(ctx, drv, fns...)
	switch {
	case queryErr != nil:
		return queryErr
	case !found():
		return nil
	}
	return err
}

// maxIdle bounds the goroutines kept idle for the next loads: two per
// CPU, at least 4. Few, because an idle goroutine keeps its stack, and the
// collector counts stacks in the base that GOGC multiplies: keeping up to
// 32 raised the peak RSS of a page of customers at 16 connections from 81
// to 88 MiB; keeping 4 on 2 CPUs left it unchanged and still took the
// stack copies from 2.4% of the server's CPU to 0.8%.
var maxIdle = max(4, 2*runtime.GOMAXPROCS(0))

// idle holds the goroutines that finished a load, each waiting on its
// own channel for the next, the last to finish on top. A load goes deep
// (ent's query, the driver, pgx), and a new goroutine's stack grows to
// that depth by doublings, each a copy: on a page of customers, the one
// goroutine Run started per request spent 2.4% of the server's CPU
// copying its stack. A kept goroutine has grown already, the most recent
// most surely (the collector halves an idle goroutine's stack when it
// uses a quarter of it).
var idle struct {
	sync.Mutex
	workers []chan func()
}

// spawn runs f on the most recently idle worker, or on a new goroutine
// when none is idle: it never waits for a worker, so the members of a
// group never wait for one another to get one.
func spawn(f func()) {
	idle.Lock()
	if n := len(idle.workers); n > 0 {
		w := idle.workers[n-1]
		idle.workers = idle.workers[:n-1]
		idle.Unlock()
		w <- f
		return
	}
	idle.Unlock()
	go work(f)
}

// work runs f, then the functions it is handed while it is one of the
// idle workers; it ends when maxIdle are idle already. (f cannot
// panic: Run's functions recover.)
func work(f func()) {
	next := make(chan func())
	for {
		f()
		f = nil // (nothing of the last request stays reachable while idle)
		idle.Lock()
		if len(idle.workers) >= maxIdle {
			idle.Unlock()
			return
		}
		idle.workers = append(idle.workers, next)
		idle.Unlock()
		f = <-next
	}
}
