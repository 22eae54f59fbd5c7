package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"custgraph/internal/entbatch"
)

// sendBatch is pgxReads' entbatch.Exec: the first statements of a query's
// eager loads (a page's products and its addresses) go to PostgreSQL in
// one pipeline, one write and one round trip, on one connection. Each
// member of the batch gets its rows in turn, as pgx reads the results in
// their order: the next result is read when the previous member closes
// its rows (ent reads them to the end at once), and the connection goes
// back to the pool after the last.
//
// As in query: each member's first row is read before it gets its rows,
// so that a statement's error is Query's error; a batch that could not
// be sent on a broken connection is sent again once, on another. A
// statement that fails takes the rest of the batch with it (PostgreSQL
// skips them), and each of those members gets the error.
func (d *pgxReads) sendBatch(ctx context.Context, reqs []*entbatch.Request) {
	b := &batchRun{d: d, ctx: ctx, reqs: reqs}
	b.send(true)
}

type batchRun struct {
	d    *pgxReads
	ctx  context.Context
	reqs []*entbatch.Request
	next int // the next request to deliver
	conn *pgxpool.Conn
	br   pgx.BatchResults
}

func (b *batchRun) send(retry bool) {
	conn, err := b.d.pool.Acquire(b.ctx)
	if err != nil {
		for _, r := range b.reqs[b.next:] {
			r.Err = err
			r.Deliver()
		}
		return
	}
	batch := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.reqs))}
	for _, r := range b.reqs {
		batch.Queue(r.SQL, r.Args...)
	}
	b.d.batches.Add(1)
	b.d.batched.Add(int64(len(b.reqs)))
	c, _ := b.ctx.Value(counterKey{}).(*Counter)
	for ; c != nil; c = c.outer {
		c.shared.Add(int64(len(b.reqs) - 1))
	}
	b.conn, b.br = conn, conn.SendBatch(b.ctx, batch)
	b.deliver(retry)
}

// deliver hands the next request its rows, or its error and goes on to
// the next; after the last it gives the connection back.
func (b *batchRun) deliver(retry bool) {
	for b.next < len(b.reqs) {
		r := b.reqs[b.next]
		rows, err := b.br.Query()
		var (
			columns []string
			more    bool
		)
		if err == nil {
			columns = columnsOf(rows)
			more = rows.Next()
			err = rows.Err()
		}
		if err != nil {
			if rows != nil {
				rows.Close()
			}
			if retry && b.next == 0 && pgconn.SafeToRetry(err) && b.ctx.Err() == nil {
				b.br.Close()
				b.conn.Release()
				b.send(false)
				return
			}
			b.next++
			r.Err = err
			r.Deliver()
			continue
		}
		b.next++
		r.Rows = &pgxRows{rows: rows, first: true, more: more, columns: columns, onClose: b.closed}
		r.Deliver()
		return
	}
	_ = b.br.Close() // (each member had its error)
	b.conn.Release()
}

func (b *batchRun) closed() { b.deliver(false) }

// preferTextNumeric has pgx ask for numeric results as text, as
// resultFormats does for ent's single queries and stdlib for database/sql:
// a batch's result formats are the type map's preferred ones (pgx takes no
// QueryResultFormatsByOID in a batch), and numeric is the one type of the
// schema whose pgx preference (binary) differs
// (TestBatchFormatsAreQueryFormats checks every column type).
func preferTextNumeric(conn *pgx.Conn) {
	m := conn.TypeMap()
	if t, ok := m.TypeForOID(pgtype.NumericOID); ok {
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: textPreferred{t.Codec}})
	}
}

type textPreferred struct{ pgtype.Codec }

func (textPreferred) PreferredFormat() int16 { return pgtype.TextFormatCode }
