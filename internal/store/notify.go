package store

import (
	"context"
	"crypto/rand"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"custgraph/internal/entbatch"
	"custgraph/internal/notify"
)

// This file delivers internal/notify's signals. A driver wrapper publishes
// each signal to this process's hub as soon as its transaction has
// committed (before Commit returns, so the replica that made a change never
// serves what it derived from the old data); on PostgreSQL the statement
// also runs, and the other replicas hear of it on their LISTEN connection.

// signals wraps a driver: the statement notify.SQL is published to hub, at
// once outside a transaction, after the commit inside one (never when it
// rolls back). On SQLite it is not run (there is no pg_notify); on
// PostgreSQL (run true) it is, for the other replicas, with the payload
// prefixed by origin: the listener of this process skips its own signals,
// which it published already (a second eviction of the same caches would
// only cost a reload).
func signals(d dialect.Driver, hub *notify.Hub, run bool, origin string) *signalDriver {
	return &signalDriver{Driver: d, hub: hub, run: run, origin: origin}
}

// newOrigin returns a process's random origin: originLen hex digits.
func newOrigin() string {
	b := make([]byte, originLen/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const originLen = 16

// tagged is args with the payload (args[1]) prefixed by origin and "|".
func tagged(origin string, args []any) []any {
	p, _ := args[1].(string)
	return []any{args[0], origin + "|" + p}
}

// untag splits a received payload into its origin ("" when it has none) and
// the payload proper.
func untag(p string) (origin, payload string) {
	if len(p) > originLen && p[originLen] == '|' {
		return p[:originLen], p[originLen+1:]
	}
	return "", p
}

type signalDriver struct {
	dialect.Driver
	hub    *notify.Hub
	run    bool
	origin string
	// txTimeout bounds every transaction's life (nanoseconds; 0: none):
	// see DB.SetWriteTimeout.
	txTimeout atomic.Int64
}

// bound returns ctx bounded by the transaction timeout, and its cancel.
func (d *signalDriver) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if t := d.txTimeout.Load(); t > 0 {
		ctx, cancel := context.WithTimeoutCause(ctx, time.Duration(t), ErrWriteTimeout)
		return ctx, cancel
	}
	return ctx, func() {}
}

// signal reads the channel and payload of a notify.SQL statement.
func signal(q string, args []any) (notify.Event, bool, error) {
	if q != notify.SQL {
		return notify.Event{}, false, nil
	}
	if len(args) != 2 {
		return notify.Event{}, true, fmt.Errorf("store: %s takes 2 arguments, got %d", notify.SQL, len(args))
	}
	ch, ok1 := args[0].(string)
	p, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return notify.Event{}, true, errors.New("store: the arguments of a signal are strings")
	}
	return notify.Event{Channel: ch, Payload: p}, true, nil
}

// Query marks the driver's errors of the network (fromDriver), as every
// method of signalDriver and signalTx does.
// Batches forwards the driver's entbatch.Batcher.
func (d *signalDriver) Batches() bool {
	b, ok := d.Driver.(entbatch.Batcher)
	return ok && b.Batches()
}

func (d *signalDriver) Query(ctx context.Context, q string, args, v any) error {
	return fromDriver(d.Driver.Query(ctx, q, args, v))
}

func (d *signalDriver) Exec(ctx context.Context, q string, args, v any) error {
	a, _ := args.([]any)
	e, ok, err := signal(q, a)
	switch {
	case !ok:
		return fromDriver(d.Driver.Exec(ctx, q, args, v))
	case err != nil:
		return err
	case d.run:
		if err := d.Driver.Exec(ctx, q, tagged(d.origin, a), v); err != nil {
			return fromDriver(err)
		}
	}
	d.hub.Publish(e.Channel, e.Payload)
	return nil
}

func (d *signalDriver) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	e, ok, err := signal(q, args)
	var res stdsql.Result = driverResult{}
	switch {
	case !ok:
		return d.execContext(ctx, q, args...)
	case err != nil:
		return nil, err
	case d.run:
		if res, err = d.execContext(ctx, q, tagged(d.origin, args)...); err != nil {
			return nil, err
		}
	}
	d.hub.Publish(e.Channel, e.Payload)
	return res, nil
}

func (d *signalDriver) execContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	res, err := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
	return res, fromDriver(err)
}

// QueryContext is forwarded explicitly (stack notes P11).
func (d *signalDriver) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	rows, err := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
	return rows, fromDriver(err)
}

func (d *signalDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	ctx, cancel := d.bound(ctx)
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		cancel()
		return nil, fromDriver(err)
	}
	return &signalTx{Tx: tx, hub: d.hub, run: d.run, origin: d.origin, ctx: ctx, cancel: cancel}, nil
}

// BeginTx keeps ent's transaction options working.
func (d *signalDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	ctx, cancel := d.bound(ctx)
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		cancel()
		return nil, fromDriver(err)
	}
	return &signalTx{Tx: tx, hub: d.hub, run: d.run, origin: d.origin, ctx: ctx, cancel: cancel}, nil
}

type signalTx struct {
	dialect.Tx
	hub     *notify.Hub
	run     bool
	origin  string
	ctx     context.Context // the transaction's own: its end rolls it back
	cancel  context.CancelFunc
	mu      sync.Mutex
	pending []notify.Event
}

func (t *signalTx) keep(e notify.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, e)
}

// expired turns the error of a statement in a transaction whose time ran
// out into ErrWriteTimeout, and marks the driver's errors of the network
// (fromDriver).
func (t *signalTx) expired(err error) error {
	if err != nil && context.Cause(t.ctx) == ErrWriteTimeout {
		return fmt.Errorf("%w (%w)", ErrWriteTimeout, err)
	}
	return fromDriver(err)
}

func (t *signalTx) Query(ctx context.Context, q string, args, v any) error {
	return t.expired(t.Tx.Query(ctx, q, args, v))
}

func (t *signalTx) Exec(ctx context.Context, q string, args, v any) error {
	a, _ := args.([]any)
	e, ok, err := signal(q, a)
	switch {
	case !ok:
		return t.expired(t.Tx.Exec(ctx, q, args, v))
	case err != nil:
		return err
	case t.run:
		if err := t.Tx.Exec(ctx, q, tagged(t.origin, a), v); err != nil {
			return t.expired(err)
		}
	}
	t.keep(e)
	return nil
}

func (t *signalTx) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	e, ok, err := signal(q, args)
	var res stdsql.Result = driverResult{}
	switch {
	case !ok:
		return t.execContext(ctx, q, args...)
	case err != nil:
		return nil, err
	case t.run:
		if res, err = t.execContext(ctx, q, tagged(t.origin, args)...); err != nil {
			return nil, err
		}
	}
	t.keep(e)
	return res, nil
}

func (t *signalTx) execContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	res, err := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
	return res, t.expired(err)
}

func (t *signalTx) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	rows, err := t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
	return rows, t.expired(err)
}

// Commit publishes the transaction's signals once it has committed; like
// pg_notify, the same signal twice in one transaction is delivered once.
// When the commit fails they are published all the same: a commit can fail
// after the database committed (the connection broke on the way back), and
// this process skips its own signals when they come back through LISTEN,
// so a signal too many (a cache reloaded for nothing) is the safe side.
func (t *signalTx) Commit() error {
	defer t.cancel()
	sent := t.ctx.Err() == nil // (else database/sql rolls back without sending COMMIT)
	err := t.Tx.Commit()
	t.mu.Lock()
	pending := t.pending
	t.pending = nil
	t.mu.Unlock()
	seen := make(map[notify.Event]bool, len(pending))
	for _, e := range pending {
		if !seen[e] {
			seen[e] = true
			t.hub.Publish(e.Channel, e.Payload)
		}
	}
	if t.run && sent && unanswered(err) {
		return fmt.Errorf("%w: %w", ErrCommitUnknown, t.expired(err))
	}
	return t.expired(err)
}

// unanswered reports whether err, the error of a COMMIT sent to
// PostgreSQL, is not PostgreSQL's answer (which, an error, means the
// transaction was rolled back) but the lack of one: a timeout, a
// cancellation, a broken connection. The COMMIT may then have been carried
// out.
func unanswered(err error) bool {
	var pgErr *pgconn.PgError
	return err != nil && !errors.As(err, &pgErr) && !errors.Is(err, stdsql.ErrTxDone)
}

// ErrCommitUnknown is the error of a COMMIT that PostgreSQL did not answer
// (in time): the change may or may not have been stored, so it must not be
// reported as rolled back (a client that believes it sends it again, and
// stores it twice).
var ErrCommitUnknown = errors.New("the database did not confirm the commit: the change may have been stored")

func (t *signalTx) Rollback() error {
	defer t.cancel()
	t.mu.Lock()
	t.pending = nil
	t.mu.Unlock()
	return fromDriver(t.Tx.Rollback())
}

// ErrWriteTimeout is the error of a statement in a transaction that lived
// longer than DB.SetWriteTimeout allows (the transaction is rolled back).
var ErrWriteTimeout = errors.New("the write took too long and was rolled back")

// driverResult is the result of a signal that was not run as a statement.
type driverResult struct{}

func (driverResult) LastInsertId() (int64, error) { return 0, nil }
func (driverResult) RowsAffected() (int64, error) { return 0, nil }

// listener keeps one connection of pool LISTENing on notify.Channels and
// publishes what arrives to hub, until ctx ends. When the connection breaks
// the hub is marked Lost, and Restored once a new connection listens again.
type listener struct {
	pool   *pgxpool.Pool
	hub    *notify.Hub
	log    *slog.Logger
	origin string // this process's: its own signals were published at their commit

	conn     atomic.Pointer[pgx.Conn] // the listening connection; nil while there is none
	lastBeat atomic.Int64             // when the connection last delivered this process's beat (UnixNano)
}

// A listening connection can go silent without breaking: a stateful
// firewall or NAT that dropped its entry, a proxy that stalled. PostgreSQL
// then delivers nothing to it, the hub stays Healthy, and this replica went
// on trusting its caches (a revoked role for up to their 10 minutes). So
// the listener signals itself on a channel of its own (beatChannel), every
// beatInterval, through the pool; when its connection has delivered none
// of them for missedBeats intervals, the connection is taken as broken: the
// hub is Lost (caches bypassed) until a new connection listens.
var beatInterval = 2 * time.Second // (a variable: the tests beat faster)

const missedBeats = 5

// beatChannel is this process's own channel for its beats.
func (l *listener) beatChannel() string { return "custgraph_beat_" + l.origin }

// listen returns once the first connection listens (or fails to), and
// goes on in the background.
func (l *listener) start(ctx context.Context) error {
	conn, err := l.connect(ctx)
	if err != nil {
		return err
	}
	l.listening(conn)
	l.hub.Restored()
	go l.run(ctx, conn)
	go l.watch(ctx)
	return nil
}

// listening records conn as the listening connection, which has just
// listened (a beat's worth of credit).
func (l *listener) listening(conn *pgx.Conn) {
	l.lastBeat.Store(time.Now().UnixNano())
	l.conn.Store(conn)
}

// watch sends a beat every interval and, when the listening connection has
// delivered none for missedBeats intervals, closes its socket: run's wait
// then fails, and run marks the hub Lost and connects again.
func (l *listener) watch(ctx context.Context) {
	every := beatInterval
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		conn := l.conn.Load()
		if conn == nil {
			continue // (run is connecting again)
		}
		bctx, cancel := context.WithTimeout(ctx, every)
		_, _ = l.pool.Exec(bctx, "SELECT pg_notify($1, '')", l.beatChannel()) // (a failure is a beat missed)
		cancel()
		if silent := time.Since(time.Unix(0, l.lastBeat.Load())); silent > missedBeats*every {
			l.log.Warn("the listening connection delivered nothing: taken as broken", "silent_for", silent.Round(time.Millisecond))
			_ = conn.PgConn().Conn().Close()
			l.conn.CompareAndSwap(conn, nil)
		}
	}
}

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	c, err := l.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := c.Hijack() // ours alone: a listening session cannot go back to the pool
	for _, ch := range append(slices.Clone(notify.Channels), l.beatChannel()) {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("listening on %s: %w", ch, err)
		}
	}
	return conn, nil
}

func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	backoff := 100 * time.Millisecond
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				l.conn.CompareAndSwap(conn, nil)
				conn.Close(context.WithoutCancel(ctx))
				conn = nil
				if ctx.Err() != nil {
					return
				}
				l.log.Warn("the listening connection broke: caches are bypassed until it is back", "err", err)
				l.hub.Lost()
				break
			}
			backoff = 100 * time.Millisecond
			if n.Channel == l.beatChannel() {
				l.lastBeat.Store(time.Now().UnixNano())
				continue
			}
			if origin, payload := untag(n.Payload); origin != l.origin {
				l.hub.Publish(n.Channel, payload)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		c, err := l.connect(ctx)
		if err != nil {
			continue
		}
		conn = c
		l.listening(conn)
		l.log.Info("listening again: caches are in use")
		l.hub.Restored()
	}
}
