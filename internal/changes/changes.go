// Package changes is custgraph's change stream: every committed change of
// every record, whichever door made it, as an ordered sequence of events
// with opaque cursors. Its source is the audit trail, which the hook that
// authorizes every mutation writes in the change's own transaction
// (ent/schema/hooks_access.go): an event exists exactly when its change
// committed.
//
// Order. Each audit event carries txid (ent/schema AuditEvent), and the
// stream is ordered by (txid, id):
//
//   - on PostgreSQL txid is the writing transaction's id, filled in by the
//     database. Transaction ids are handed out when a transaction starts
//     writing, not when it commits, so a reader that went by them alone
//     could pass an id whose transaction commits later. Since therefore
//     reads only the events of transactions below the oldest transaction
//     of this database still running (horizon): every transaction below
//     it has ended, so no event can ever appear behind a cursor already
//     given out. A long-running writing transaction holds the stream back
//     (never loses events) until it ends;
//   - on SQLite (one writer at a time) txid is a sequence number written in
//     the change's transaction: commit order.
//
// Within one transaction the events are ordered by their UUIDv7 ids.
//
// Retention: the stream is the audit trail, which custgraph never deletes,
// so a cursor stays valid for as long as the database lives. An event whose
// audit record was removed by an operator is simply not in the stream.
//
// Who sees what: Since reads as the viewer of its context. The stream tells
// a viewer of the changes ent/schema's MayReadChange allows it (the
// entity's read role at the change's bank), decided with the viewer it is
// given at each call; the changed record itself is read through the
// entity's privacy rules by whoever shows it (the GraphQL node field).
package changes

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/auditevent"
	"custgraph/ent/predicate"
	"custgraph/ent/privacy"
	"custgraph/ent/schema"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
)

// Cursor is a position in the stream: the event at it and every event
// before it have been seen. The zero Cursor is the stream's beginning.
type Cursor struct {
	Pos int64     // txid
	ID  uuid.UUID // the audit event's id
}

// After reports whether c is after d in the stream.
func (c Cursor) After(d Cursor) bool {
	return c.Pos > d.Pos || (c.Pos == d.Pos && bytes.Compare(c.ID[:], d.ID[:]) > 0)
}

// IsZero reports whether c is the stream's beginning.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// String is the opaque form of a cursor given to clients.
func (c Cursor) String() string {
	var b [25]byte
	b[0] = 1 // version
	binary.BigEndian.PutUint64(b[1:9], uint64(c.Pos))
	copy(b[9:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor reads a cursor given by String; "" is the beginning.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 25 || b[0] != 1 || int64(binary.BigEndian.Uint64(b[1:9])) < 0 {
		return Cursor{}, apperr.Invalid("cursor", "not a cursor of the change stream")
	}
	var c Cursor
	c.Pos = int64(binary.BigEndian.Uint64(b[1:9]))
	copy(c.ID[:], b[9:])
	return c, nil
}

// Event is one change of one record.
type Event struct {
	Cursor     Cursor
	Op         string // CREATE, UPDATE or DELETE
	EntityType string // ent's type name: Customer, Product, …
	EntityID   uuid.UUID
	BankID     *uuid.UUID // nil for records of no bank (clients, users, …)
	CustomerID *uuid.UUID // the customer the record is of (a customer's own: itself)
	Fields     []string   // the names of the fields set (database names); values are never told
	ActorKind  string     // client, user or system
	At         time.Time
}

// Filter narrows the stream; empty parts do not narrow.
type Filter struct {
	BankIDs     []uuid.UUID
	EntityTypes []string
	CustomerID  *uuid.UUID
}

// Check refuses a filter naming an entity type the stream has no changes
// of (a misspelt type would otherwise match nothing, silently).
func (f Filter) Check(field string) error {
	known := schema.ChangeTypes()
	for _, t := range f.EntityTypes {
		if !slices.Contains(known, t) {
			return apperr.Invalid(field, "%q is not an entity type of the change stream; one of %s",
				truncate(t, 40), strings.Join(known, ", "))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Match reports whether e passes f.
func (f Filter) Match(e *Event) bool {
	if len(f.BankIDs) > 0 && (e.BankID == nil || !contains(f.BankIDs, *e.BankID)) {
		return false
	}
	if len(f.EntityTypes) > 0 && !contains(f.EntityTypes, e.EntityType) {
		return false
	}
	if f.CustomerID != nil && (e.CustomerID == nil || *e.CustomerID != *f.CustomerID) {
		return false
	}
	return true
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Visible reports whether v may learn of e (ent/schema's MayReadChange).
func Visible(v *access.Viewer, e *Event) bool {
	bank := uuid.Nil
	if e.BankID != nil {
		bank = *e.BankID
	}
	return schema.MayReadChange(v, e.EntityType, bank)
}

// Page is what Since read.
type Page struct {
	// Events are the events after the cursor the viewer may see and the
	// filter passes, in stream order.
	Events []Event
	// Next is the position read up to (past the events left out): the
	// cursor to read on from. It equals the cursor given when nothing new
	// was read.
	Next Cursor
	// More says Since stopped before the end of what it may read now
	// (limit events found, or its bound on work reached): call it again
	// with Next.
	More bool
}

// MaxLimit is the most events one call of Since returns.
const MaxLimit = 1000

// Since returns up to limit events after cursor that the viewer of ctx may
// see and f passes, in stream order.
func Since(ctx context.Context, c *ent.Client, after Cursor, f Filter, limit int) (Page, error) {
	v := access.FromContext(ctx)
	if v == nil {
		return Page{}, access.ErrUnauthenticated
	}
	limit = min(max(limit, 1), MaxLimit)
	page := Page{Next: after}
	where := []predicate.AuditEvent{schema.ChangeScope(v)}
	if len(f.BankIDs) > 0 {
		where = append(where, auditevent.BankIDIn(f.BankIDs...))
	}
	if len(f.EntityTypes) > 0 {
		where = append(where, auditevent.EntityTypeIn(f.EntityTypes...))
	}
	if f.CustomerID != nil {
		where = append(where, auditevent.CustomerID(*f.CustomerID))
	}
	// The viewer's rule is applied below, event by event; the stream is
	// read as custgraph (audit records are otherwise CanReadAuditEvents').
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	for range 8 { // bounded work per call: a caller that sees little of a long stretch reads on with Next
		batch, err := read(sys, c, page.Next, where, limit)
		if err != nil {
			return page, err
		}
		for i := range batch {
			page.Next = batch[i].Cursor
			if Visible(v, &batch[i]) && f.Match(&batch[i]) {
				page.Events = append(page.Events, batch[i])
				if len(page.Events) == limit {
					page.More = true
					return page, nil
				}
			}
		}
		if len(batch) < limit {
			return page, nil
		}
	}
	page.More = true
	return page, nil
}

// read returns up to n events after cursor passing where, as they are.
func read(ctx context.Context, c *ent.Client, after Cursor, where []predicate.AuditEvent, n int) ([]Event, error) {
	h, err := horizon(ctx, c)
	if err != nil {
		return nil, err
	}
	q := c.AuditEvent.Query().
		Where(afterCursor(after)).
		Where(where...).
		Where(h).
		Order(auditevent.ByTxid(), auditevent.ByID()).
		Limit(n)
	rows, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = event(r)
	}
	return out, nil
}

// afterCursor keeps the events after cursor in stream order, written as
// one row comparison, (txid, id) > (pos, id): an index on (txid, id), or
// on (bank_id, txid, id) for one bank's stream, then starts reading at the
// cursor. Written as txid > pos OR (txid = pos AND id > id), it could not:
// a page deep into a long transaction (the demo load writes 390,000 events
// in one) read and dropped every event of it before the cursor, 200,000 rows
// for a page of 100.
func afterCursor(after Cursor) predicate.AuditEvent {
	return func(s *sql.Selector) {
		s.Where(sql.CompositeGT([]string{s.C(auditevent.FieldTxid), s.C(auditevent.FieldID)}, after.Pos, after.ID))
	}
}

// horizon keeps the events that can no longer be preceded by another.
//
// On PostgreSQL those of transactions below the oldest transaction of this
// database still running. It is found by a statement of its own, before
// the events are read by another (read committed: a later snapshot): the
// running transactions of its snapshot (pg_snapshot_xip) that a session
// of this database still runs when pg_stat_activity is read. A
// transaction below the horizon has therefore ended before the events are
// read, and one that starts later gets a larger id. Transactions of other
// databases on the server do not hold the stream back. When a session of
// this database belongs to a role whose transaction ids this one may not
// see, the server-wide horizon (pg_snapshot_xmin) is used instead.
//
// On SQLite every numbered event (the number is written in its
// transaction, one writer at a time).
func horizon(ctx context.Context, c *ent.Client) (predicate.AuditEvent, error) {
	if c.Dialect() != dialect.Postgres {
		return auditevent.TxidNotNil(), nil
	}
	rows, err := c.QueryContext(ctx, horizonSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var h int64
	if !rows.Next() {
		return nil, errors.New("changes: the horizon query answered nothing")
	}
	if err := rows.Scan(&h); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return auditevent.TxidLT(h), nil
}

// horizonSQL: see horizon. backend_xid is a 32-bit xid, the snapshot's are
// 64-bit (with the epoch): they are matched on the low 32 bits.
const horizonSQL = `WITH s AS (SELECT pg_current_snapshot() AS snap),
ours AS (
  SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
  WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
),
hidden AS (
  SELECT 1 FROM pg_stat_activity
  WHERE datname = current_database() AND usesysid IS NOT NULL
    AND NOT pg_has_role(usesysid, 'USAGE') AND NOT pg_has_role('pg_read_all_stats', 'USAGE')
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM hidden) THEN pg_snapshot_xmin(snap)::text::bigint
ELSE COALESCE(
  (SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap) AS x
   WHERE x::text::bigint % 4294967296 IN (SELECT xid FROM ours)),
  pg_snapshot_xmax(snap)::text::bigint)
END FROM s`

func event(r *ent.AuditEvent) Event {
	e := Event{
		Cursor:     Cursor{Pos: r.Txid, ID: r.ID},
		Op:         strings.ToUpper(string(r.Operation)),
		EntityType: r.EntityType,
		EntityID:   r.EntityID,
		BankID:     r.BankID,
		CustomerID: r.CustomerID,
		Fields:     r.Fields,
		ActorKind:  string(r.ActorKind),
		At:         r.CreatedAt,
	}
	if e.Fields == nil {
		e.Fields = []string{}
	}
	return e
}

// Head returns the position of the last event readers may be given now
// (the zero Cursor when there is none): where a subscription that asks for
// no past events starts.
func Head(ctx context.Context, c *ent.Client) (Cursor, error) {
	sys := privacy.DecisionContext(access.System(ctx), privacy.Allow)
	h, err := horizon(ctx, c)
	if err != nil {
		return Cursor{}, err
	}
	r, err := c.AuditEvent.Query().Where(h).
		Order(auditevent.ByTxid(sql.OrderDesc()), auditevent.ByID(sql.OrderDesc())).
		Select(auditevent.FieldID, auditevent.FieldTxid).First(sys)
	if ent.IsNotFound(err) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, err
	}
	return Cursor{Pos: r.Txid, ID: r.ID}, nil
}
