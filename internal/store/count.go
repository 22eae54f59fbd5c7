package store

import (
	"context"
	stdsql "database/sql"
	"sync/atomic"

	"entgo.io/ent/dialect"
)

// Counter counts the SQL statements (queries and execs) run on behalf of one
// context: one HTTP request, or one test step.
type Counter struct{ n atomic.Int64 }

// N is the number of statements counted so far.
func (c *Counter) N() int64 { return c.n.Load() }

type counterKey struct{}

// WithCounter returns a context whose statements are counted in a new Counter.
func WithCounter(ctx context.Context) (context.Context, *Counter) {
	c := new(Counter)
	return context.WithValue(ctx, counterKey{}, c), c
}

func count(ctx context.Context, total *atomic.Int64) {
	if total != nil {
		total.Add(1)
	}
	if c, ok := ctx.Value(counterKey{}).(*Counter); ok {
		c.n.Add(1)
	}
}

// Counting wraps a driver so that every statement is counted in the
// context's Counter (see WithCounter) and in total (when not nil).
func Counting(d dialect.Driver, total *atomic.Int64) dialect.Driver {
	return &countingDriver{Driver: d, total: total}
}

type countingDriver struct {
	dialect.Driver
	total *atomic.Int64
}

func (d *countingDriver) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, d.total)
	return d.Driver.Exec(ctx, q, args, v)
}

func (d *countingDriver) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, d.total)
	return d.Driver.Query(ctx, q, args, v)
}

// QueryContext is forwarded explicitly: ent's client.QueryContext needs it
// and embedding alone would hide it (stack notes P11).
func (d *countingDriver) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	count(ctx, d.total)
	return d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
}

// ExecContext is forwarded explicitly, like QueryContext.
func (d *countingDriver) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	count(ctx, d.total)
	return d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, total: d.total}, nil
}

// BeginTx keeps ent's transaction options (isolation levels) working.
func (d *countingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, total: d.total}, nil
}

type countingTx struct {
	dialect.Tx
	total *atomic.Int64
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, t.total)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, t.total)
	return t.Tx.Query(ctx, q, args, v)
}

// ExecContext and QueryContext are forwarded for ent's Tx.ExecContext and
// Tx.QueryContext (raw statements inside a transaction, e.g. advisory locks).
func (t *countingTx) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	count(ctx, t.total)
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
}

func (t *countingTx) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	count(ctx, t.total)
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
}
