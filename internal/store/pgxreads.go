package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"custgraph/internal/entbatch"
)

// pgxReads sends the queries ent runs outside a transaction (every read of
// a request) straight to pgx's pool, instead of through database/sql and
// pgx's database/sql adapter (stdlib). That layer cost a lookup by id about
// 5% of the server's CPU: its connection pool's locks, a goroutine per
// result set watching the context, and every value converted to a
// driver.Value and then again into ent's holder. Transactions, and the
// statements outside ent's Query (Exec, raw QueryContext), keep going
// through database/sql: its transaction handling (options, the write
// timeout of signalTx) stays as it is.
//
// It behaves as stdlib does where ent can tell: the first row is read
// before Query returns, so that a statement's error (a constraint of an
// INSERT … RETURNING, a cancelled context) is Query's error, and a
// connection that broke before anything was sent is retried once on
// another, as database/sql retries on driver.ErrBadConn.
type pgxReads struct {
	*entsql.Driver
	pool   *pgxpool.Pool
	health *connHealth
	// batches and batched count the batches sent (batch.go) and their
	// statements, for the tests.
	batches, batched atomic.Int64
}

// Query runs q on a connection of the pool; the connection goes back when
// ent closes the rows (it always does).
func (d *pgxReads) Query(ctx context.Context, q string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	argv, ok2 := args.([]any)
	if !ok || !ok2 || !builtByEnt(q) {
		return d.Driver.Query(ctx, q, args, v)
	}
	if r, ok := entbatch.Join(ctx, q, argv, d.sendBatch); ok {
		if r.Err != nil {
			d.health.note(r.Err)
			return r.Err
		}
		*vr = entsql.Rows{ColumnScanner: r.Rows.(*pgxRows)}
		return nil
	}
	r, err := d.query(ctx, q, argv)
	if err != nil && pgconn.SafeToRetry(err) && ctx.Err() == nil {
		r, err = d.query(ctx, q, argv)
	}
	if err != nil {
		d.health.note(err)
		return err
	}
	*vr = entsql.Rows{ColumnScanner: r}
	return nil
}

// Batches tells entbatch that the eager loads of a query may send their
// statements together (batch.go).
func (d *pgxReads) Batches() bool { return true }

// Close closes database/sql's pool and pgx's.
func (d *pgxReads) Close() error {
	err := d.Driver.Close()
	d.pool.Close()
	return err
}

// builtByEnt reports whether q is a statement of ent's query builder,
// which quotes every identifier on PostgreSQL and never reads the
// catalog. Others go through database/sql: ent's schema tooling
// (client.Schema.Create, Diff, WriteTo, through Atlas) sends its own
// statements (current_setting, advisory locks, the catalog's tables) on
// the client's driver and type-asserts database/sql's rows.
func builtByEnt(q string) bool {
	return strings.Contains(q, `"`) && !strings.Contains(q, "pg_catalog.") && !strings.Contains(q, "information_schema.")
}

// connHealth tells the pools when to check a connection before handing it
// out. pgxpool's default checks one idle for over a second; after a read
// met a broken connection (the server restarted, the network failed: an
// error of the network on a connection that was open), every connection
// idle since before that is checked too, in both pools, so that the next
// requests get a working one, and the working ones are kept. A refused
// connect or the end of one session (pg_terminate_backend) is not such an
// error: pgx drops that connection alone.
type connHealth struct{ brokenAt atomic.Int64 } // unix nanoseconds

func (h *connHealth) note(err error) {
	if h == nil {
		return
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return
	}
	if _, ok := networkCause(err); ok {
		h.brokenAt.Store(time.Now().UnixNano())
	}
}

// shouldPing reports whether a connection idle for idle is checked.
func (h *connHealth) shouldPing(idle time.Duration) bool {
	if idle > time.Second {
		return true
	}
	broken := h.brokenAt.Load()
	return broken != 0 && time.Now().Add(-idle).UnixNano() <= broken
}

func (d *pgxReads) query(ctx context.Context, q string, argv []any) (*pgxRows, error) {
	args := make([]any, 1+len(argv))
	args[0] = resultFormats
	copy(args[1:], argv)
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	columns := columnsOf(rows)
	more := rows.Next()
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	return &pgxRows{rows: rows, first: true, more: more, columns: columns}, nil
}

// columnsOf returns the names of rows' columns. It is called before the
// first Next: when there are no rows, pgxpool gives the connection back
// as Next ends them, and the field descriptions pgx returns are the
// connection's own, overwritten by the next statement on it (another
// request's, at once under load).
func columnsOf(rows pgx.Rows) []string {
	fds := rows.FieldDescriptions()
	columns := make([]string, len(fds))
	for i, fd := range fds {
		columns[i] = fd.Name
	}
	return columns
}

// resultFormats asks PostgreSQL for the columns in the formats stdlib
// asks for (binary for numbers, booleans, bytes and times, text for the
// rest: a numeric reaches ent's decimal as its text, as before), and for
// uuids in binary: 16 bytes each way instead of 36 characters parsed.
var resultFormats = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID:        pgx.BinaryFormatCode,
	pgtype.ByteaOID:       pgx.BinaryFormatCode,
	pgtype.CIDOID:         pgx.BinaryFormatCode,
	pgtype.DateOID:        pgx.BinaryFormatCode,
	pgtype.Float4OID:      pgx.BinaryFormatCode,
	pgtype.Float8OID:      pgx.BinaryFormatCode,
	pgtype.Int2OID:        pgx.BinaryFormatCode,
	pgtype.Int4OID:        pgx.BinaryFormatCode,
	pgtype.Int8OID:        pgx.BinaryFormatCode,
	pgtype.OIDOID:         pgx.BinaryFormatCode,
	pgtype.TimestampOID:   pgx.BinaryFormatCode,
	pgtype.TimestamptzOID: pgx.BinaryFormatCode,
	pgtype.XIDOID:         pgx.BinaryFormatCode,
	pgtype.UUIDOID:        pgx.BinaryFormatCode,
}

// pgxRows is pgx's rows as ent's ColumnScanner.
type pgxRows struct {
	rows pgx.Rows
	// first: the first row was read by Query (more: whether there was
	// one) and Next has not been called yet.
	first, more bool
	columns     []string // (columnsOf)
	targets     []any    // Scan's, reused from row to row
	// onClose, in a batch, hands the connection's next result over
	// (batch.go).
	onClose func()
}

func (r *pgxRows) Next() bool {
	if r.first {
		r.first = false
		return r.more
	}
	return r.rows.Next()
}

func (r *pgxRows) Err() error { return r.rows.Err() }

func (r *pgxRows) Close() error {
	r.rows.Close()
	if f := r.onClose; f != nil {
		r.onClose = nil
		f()
	}
	return r.rows.Err()
}

func (r *pgxRows) NextResultSet() bool { return false }

func (r *pgxRows) Columns() ([]string, error) { return r.columns, nil }

// errNoColumnTypes: database/sql's ColumnType cannot be made outside it.
// ent asks for column types only for values selected beyond an entity's
// fields through sql.ScanTypeOf, which falls back to a *any when told so.
var errNoColumnTypes = errors.New("store: column types are not available on pgx's rows")

func (r *pgxRows) ColumnTypes() ([]*sql.ColumnType, error) { return nil, errNoColumnTypes }

// Scan scans the current row. The holders ent scans into get pgx's
// values directly where the column's type allows (see fastTarget): a
// uuid's 16 bytes, a text's string, a time, without passing through a
// database/sql value (a uuid was formatted into 36 characters and parsed
// back, each value boxed). A destination of any type (*any, ent's
// *sql.UnknownType: a value selected beyond an entity's fields) gets what
// ent on database/sql gave it (anyValue), not pgx's own Go type. Every
// other holder goes to pgx as it is, as stdlib gave it to database/sql.
//
// The row's text columns (into ent's *sql.NullString) are read here from
// pgx's raw values, not by pgx: their strings share one allocation, the
// row's text copied once out of pgx's buffer, where pgx made one string per
// column (a customer has eight: 7% of a nested page's allocations). A string
// keeps the row's text alive as long as any of them is, no longer than
// the entity that holds them.
func (r *pgxRows) Scan(dest ...any) error {
	fds := r.rows.FieldDescriptions()
	if len(fds) != len(dest) {
		return r.rows.Scan(dest...) // (pgx says what is wrong)
	}
	// dest is the caller's: ent reads its holders back from it.
	if cap(r.targets) < len(dest) {
		r.targets = make([]any, len(dest))
	}
	t := r.targets[:len(dest)]
	raw, text := r.rows.RawValues(), 0
	if len(raw) != len(fds) { // no current row
		return r.rows.Scan(dest...) // (pgx says what is wrong)
	}
	for i, d := range dest {
		if textColumn(d, fds[i].DataTypeOID) {
			text += len(raw[i])
		}
	}
	var buf []byte
	if text > 0 {
		buf = make([]byte, 0, text)
	}
	for i, d := range dest {
		if !textColumn(d, fds[i].DataTypeOID) {
			t[i] = fastTarget(d, fds[i].DataTypeOID)
			continue
		}
		t[i] = nil // (pgx skips the column)
		v := raw[i]
		switch {
		case v == nil:
			*d.(*sql.NullString) = sql.NullString{}
		case len(v) == 0:
			*d.(*sql.NullString) = sql.NullString{Valid: true}
		default:
			off := len(buf)
			buf = append(buf, v...)
			*d.(*sql.NullString) = sql.NullString{String: unsafe.String(&buf[off], len(v)), Valid: true}
		}
	}
	return r.rows.Scan(t...)
}

// textColumn reports whether Scan reads column value of type oid into
// holder d itself: a text, varchar or char into a *sql.NullString, whose
// bytes are the string in pgx's text and binary formats alike (pgx's
// TextCodec takes them as they are).
func textColumn(d any, oid uint32) bool {
	if _, ok := d.(*sql.NullString); ok {
		switch oid {
		case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
			return true
		}
	}
	return false
}

// fastTarget returns the target pgx scans column value of type oid into
// for ent's holder d.
func fastTarget(d any, oid uint32) any {
	switch p := d.(type) {
	case *uuid.UUID:
		if oid == pgtype.UUIDOID {
			return uuidInto{p}
		}
	case *entsql.NullScanner:
		if _, ok := p.S.(*uuid.UUID); ok && oid == pgtype.UUIDOID {
			return nullUUIDInto{p}
		}
	case *sql.NullTime:
		if oid == pgtype.TimestamptzOID {
			return timeInto{p}
		}
	case *sql.NullInt64:
		switch oid {
		case pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID:
			return intInto{p}
		}
	case *sql.NullBool:
		if oid == pgtype.BoolOID {
			return boolInto{p}
		}
	case *any:
		return anyValue{p, oid}
	case *entsql.UnknownType:
		return anyValue{(*any)(p), oid}
	}
	return d
}

// The fast targets, one per holder ent uses (pgx's scanner interfaces).
type (
	uuidInto     struct{ p *uuid.UUID }
	nullUUIDInto struct{ p *entsql.NullScanner } // whose S is a *uuid.UUID
	timeInto     struct{ p *sql.NullTime }
	intInto      struct{ p *sql.NullInt64 }
	boolInto     struct{ p *sql.NullBool }
)

// ScanUUID leaves a NULL as uuid.UUID's Scan does: the holder unchanged.
func (t uuidInto) ScanUUID(v pgtype.UUID) error {
	if v.Valid {
		*t.p = v.Bytes
	}
	return nil
}

func (t nullUUIDInto) ScanUUID(v pgtype.UUID) error {
	t.p.Valid = v.Valid
	if v.Valid {
		*t.p.S.(*uuid.UUID) = v.Bytes
	}
	return nil
}

func (t timeInto) ScanTimestamptz(v pgtype.Timestamptz) error {
	if v.Valid && v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("store: cannot scan %s into a time", v.InfinityModifier)
	}
	*t.p = sql.NullTime{Time: v.Time, Valid: v.Valid}
	return nil
}

func (t intInto) ScanInt64(v pgtype.Int8) error {
	*t.p = sql.NullInt64{Int64: v.Int64, Valid: v.Valid}
	return nil
}

func (t boolInto) ScanBool(v pgtype.Bool) error {
	*t.p = sql.NullBool{Bool: v.Bool, Valid: v.Valid}
	return nil
}

// anyValue receives a value selected beyond an entity's fields (see Scan)
// as ent on database/sql got it: ent asked database/sql for the column's
// type (sql.ScanTypeOf), which stdlib gave as float64 for a numeric, []byte
// for a bytea, a number, bool or time for those, and a string for the
// rest (text, uuid, json).
type anyValue struct {
	p   *any
	oid uint32
}

func (a anyValue) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		if a.oid == pgtype.ByteaOID {
			src = append([]byte(nil), v...) // (pgx's buffer is reused by the next row)
		} else {
			src = string(v)
		}
	case string:
		if a.oid == pgtype.NumericOID {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("store: scanning numeric %q: %w", v, err)
			}
			src = f
		}
	}
	*a.p = src
	return nil
}
