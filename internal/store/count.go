package store

import (
	"context"
	stdsql "database/sql"
	"strings"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"custgraph/internal/entbatch"
)

// Counter counts the SQL statements (queries and execs) run on behalf of one
// context: one HTTP request, or one test step, and the round trips they
// took.
type Counter struct {
	n atomic.Int64
	// shared counts the statements that went in a batch after its first
	// (batch.go): they took no round trip of their own.
	shared atomic.Int64
	// outer is the context's Counter before this one (a test's, around a
	// request's): it counts the same statements.
	outer *Counter
}

// N is the number of statements counted so far.
func (c *Counter) N() int64 { return c.n.Load() }

// RoundTrips is the number of times the statements counted so far went to
// the database and back: N, less the statements that travelled in a batch
// with others (on PostgreSQL, a query's eager loads: internal/entbatch).
func (c *Counter) RoundTrips() int64 { return c.n.Load() - c.shared.Load() }

type counterKey struct{}

// WithCounter returns a context whose statements are counted in a new
// Counter, and in the Counters of ctx.
func WithCounter(ctx context.Context) (context.Context, *Counter) {
	c := new(Counter)
	c.outer, _ = ctx.Value(counterKey{}).(*Counter)
	return context.WithValue(ctx, counterKey{}, c), c
}

func count(ctx context.Context, total *atomic.Int64) {
	if total != nil {
		total.Add(1)
	}
	c, _ := ctx.Value(counterKey{}).(*Counter)
	for ; c != nil; c = c.outer {
		c.n.Add(1)
	}
}

// Counting wraps a driver so that every statement is counted in the
// context's Counter (see WithCounter) and in total (when not nil), and,
// when the context's span is recording (an OpenTelemetry trace: see
// internal/observe), gets a client span of its own, a child of that span.
// Outside a traced request (tracing off, an unsampled trace, background
// work) a statement costs no tracing at all: one look at the context.
//
// A statement's span carries its text (db.query.text: ent sends values as
// arguments, never in the text, and the arguments are not recorded), the
// database system, the operation and the table; it lasts until the driver
// returned (the first rows of a query, not their reading).
// Transactions get BEGIN, COMMIT and ROLLBACK spans.
func Counting(d dialect.Driver, total *atomic.Int64) dialect.Driver {
	return &countingDriver{Driver: d, total: total, tr: newStatementTracer(d.Dialect())}
}

type countingDriver struct {
	dialect.Driver
	total *atomic.Int64
	tr    *statementTracer
}

func (d *countingDriver) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, d.total)
	span := d.tr.start(ctx, q)
	err := d.Driver.Exec(ctx, q, args, v)
	end(span, err)
	return err
}

// Batches forwards the driver's entbatch.Batcher.
func (d *countingDriver) Batches() bool {
	b, ok := d.Driver.(entbatch.Batcher)
	return ok && b.Batches()
}

func (d *countingDriver) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, d.total)
	span := d.tr.start(ctx, q)
	err := d.Driver.Query(ctx, q, args, v)
	end(span, err)
	return err
}

// QueryContext is forwarded explicitly: ent's client.QueryContext needs it
// and embedding alone would hide it (stack notes P11).
func (d *countingDriver) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	count(ctx, d.total)
	span := d.tr.start(ctx, q)
	rows, err := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
	end(span, err)
	return rows, err
}

// ExecContext is forwarded explicitly, like QueryContext.
func (d *countingDriver) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	count(ctx, d.total)
	span := d.tr.start(ctx, q)
	res, err := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
	end(span, err)
	return res, err
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	span := d.tr.start(ctx, "BEGIN")
	tx, err := d.Driver.Tx(ctx)
	end(span, err)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, total: d.total, tr: d.tr, parent: d.tr.parent(ctx)}, nil
}

// BeginTx keeps ent's transaction options (isolation levels) working.
func (d *countingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	span := d.tr.start(ctx, "BEGIN")
	tx, err := b.BeginTx(ctx, opts)
	end(span, err)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, total: d.total, tr: d.tr, parent: d.tr.parent(ctx)}, nil
}

type countingTx struct {
	dialect.Tx
	total *atomic.Int64
	tr    *statementTracer
	// parent is the span the transaction began under, when recording: the
	// parent of its COMMIT or ROLLBACK (which get no context).
	parent trace.Span
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	count(ctx, t.total)
	span := t.tr.start(ctx, q)
	err := t.Tx.Exec(ctx, q, args, v)
	end(span, err)
	return err
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	count(ctx, t.total)
	span := t.tr.start(ctx, q)
	err := t.Tx.Query(ctx, q, args, v)
	end(span, err)
	return err
}

// ExecContext and QueryContext are forwarded for ent's Tx.ExecContext and
// Tx.QueryContext (raw statements inside a transaction, e.g. advisory locks).
func (t *countingTx) ExecContext(ctx context.Context, q string, args ...any) (stdsql.Result, error) {
	count(ctx, t.total)
	span := t.tr.start(ctx, q)
	res, err := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, q, args...)
	end(span, err)
	return res, err
}

func (t *countingTx) QueryContext(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	count(ctx, t.total)
	span := t.tr.start(ctx, q)
	rows, err := t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, q, args...)
	end(span, err)
	return rows, err
}

func (t *countingTx) Commit() error {
	span := t.tr.startUnder(t.parent, "COMMIT")
	err := t.Tx.Commit()
	end(span, err)
	return err
}

func (t *countingTx) Rollback() error {
	span := t.tr.startUnder(t.parent, "ROLLBACK")
	err := t.Tx.Rollback()
	end(span, err)
	return err
}

// statementTracer starts the statements' spans.
type statementTracer struct {
	system attribute.KeyValue // db.system.name
	// cache is the tracer of the last SDK provider seen (a process has one).
	cache atomic.Pointer[cachedTracer]
}

type cachedTracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// tracerName is the instrumentation scope of the statements' spans.
const tracerName = "custgraph/internal/store"

func newStatementTracer(dialectName string) *statementTracer {
	sys := semconv.DBSystemNameSQLite
	if dialectName == dialect.Postgres {
		sys = semconv.DBSystemNamePostgreSQL
	}
	return &statementTracer{system: sys}
}

// parent returns the context's span when it records, else nil.
func (s *statementTracer) parent(ctx context.Context) trace.Span {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		return span
	}
	return nil
}

// start starts the span of statement q under the context's span; nil when
// that span does not record.
func (s *statementTracer) start(ctx context.Context, q string) trace.Span {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return nil
	}
	return s.begin(ctx, parent, q)
}

// startUnder starts the span of q under parent (nil: none).
func (s *statementTracer) startUnder(parent trace.Span, q string) trace.Span {
	if parent == nil {
		return nil
	}
	return s.begin(trace.ContextWithSpan(context.Background(), parent), parent, q)
}

func (s *statementTracer) begin(ctx context.Context, parent trace.Span, q string) trace.Span {
	op, table := statementNames(q)
	name := op
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, s.system, semconv.DBOperationName(op), semconv.DBQueryText(q))
	if table != "" {
		name += " " + table
		attrs = append(attrs, semconv.DBCollectionName(table))
	}
	_, span := s.tracer(parent.TracerProvider()).Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return span
}

// tracer returns the provider's tracer, from the cache when it is the
// SDK's provider seen last (the SDK's Tracer takes a lock).
func (s *statementTracer) tracer(tp trace.TracerProvider) trace.Tracer {
	sdk, ok := tp.(*sdktrace.TracerProvider)
	if !ok {
		return tp.Tracer(tracerName)
	}
	if c := s.cache.Load(); c != nil && c.provider == sdk {
		return c.tracer
	}
	t := sdk.Tracer(tracerName)
	s.cache.Store(&cachedTracer{provider: sdk, tracer: t})
	return t
}

func end(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "statement failed")
	}
	span.End()
}

// statementNames returns a statement's operation (its first word, upper
// case: SELECT, INSERT…) and the table it reads or writes when that is
// plain to see (FROM, INTO or UPDATE followed by a name), else "".
func statementNames(q string) (op, table string) {
	q = strings.TrimSpace(q)
	word, rest, _ := strings.Cut(q, " ")
	op = strings.ToUpper(word)
	after := ""
	switch op {
	case "SELECT", "DELETE":
		if i := strings.Index(rest, " FROM "); i >= 0 { // ent writes keywords in upper case
			after = rest[i+len(" FROM "):]
		} else if op == "DELETE" && len(rest) > 5 && strings.EqualFold(rest[:5], "FROM ") {
			after = rest[5:]
		}
	case "INSERT":
		if len(rest) > 5 && strings.EqualFold(rest[:5], "INTO ") {
			after = rest[5:]
		}
	case "UPDATE":
		after = rest
	}
	if after == "" {
		return op, ""
	}
	name, _, _ := strings.Cut(strings.TrimSpace(after), " ")
	if name == "" || name[0] == '(' {
		return op, ""
	}
	return op, strings.Trim(name, "\"`")
}
