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
//     still running (pg_snapshot_xmin of the statement's own snapshot):
//     every transaction below it has ended, so no event can ever appear
//     behind a cursor already given out. A long-running writing
//     transaction holds the stream back (never loses events) until it ends;
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
	q := c.AuditEvent.Query().
		Where(auditevent.Or(auditevent.TxidGT(after.Pos), auditevent.And(auditevent.Txid(after.Pos), auditevent.IDGT(after.ID)))).
		Where(where...).
		Where(horizon(c)).
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

// horizon keeps the events that can no longer be preceded by another: on
// PostgreSQL those of transactions below the oldest one running, as the
// statement's own snapshot sees it; on SQLite every numbered one.
func horizon(c *ent.Client) predicate.AuditEvent {
	if c.Dialect() == dialect.Postgres {
		return func(s *sql.Selector) {
			s.Where(sql.ExprP(s.C(auditevent.FieldTxid) + " < (pg_snapshot_xmin(pg_current_snapshot()))::text::bigint"))
		}
	}
	return auditevent.TxidNotNil()
}

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
	r, err := c.AuditEvent.Query().Where(horizon(c)).
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
