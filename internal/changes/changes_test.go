package changes_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"entgo.io/ent/dialect/sql"

	"custgraph/ent"
	"custgraph/ent/auditevent"
	"custgraph/internal/access"
	"custgraph/internal/changes"
	"custgraph/internal/testdb"
)

type fixture struct {
	c     *ent.Client
	sys   context.Context
	a, b  *ent.Bank
	start changes.Cursor
}

func newFixture(t *testing.T) *fixture {
	db, _ := testdb.Open(t)
	sys := access.System(context.Background())
	f := &fixture{c: db.Client, sys: sys}
	f.a = db.Client.Bank.Create().SetCode("a.bank").SetName("A").SaveX(sys)
	f.b = db.Client.Bank.Create().SetCode("b.bank").SetName("B").SaveX(sys)
	settle(t, db.Client)
	var err error
	f.start, err = changes.Head(sys, db.Client)
	require.NoError(t, err)
	return f
}

// viewer is a client holding roles at bank.
func viewer(bank uuid.UUID, roles ...access.Role) context.Context {
	var gs []access.Grant
	for _, r := range roles {
		gs = append(gs, access.Grant{Role: r, Bank: bank})
	}
	return access.NewContext(context.Background(), access.NewViewer(access.KindClient, uuid.New(), "dash", nil, gs))
}

// settle waits until the stream's head is the last event written: on
// PostgreSQL any transaction running on the server (another test's) holds
// the stream back while it runs.
func settle(t *testing.T, c *ent.Client) {
	t.Helper()
	sys := access.System(context.Background())
	last, err := c.AuditEvent.Query().Order(auditevent.ByTxid(sql.OrderDesc()), auditevent.ByID(sql.OrderDesc())).First(sys)
	require.NoError(t, err)
	for {
		h, err := changes.Head(sys, c)
		require.NoError(t, err)
		if h.ID == last.ID {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func all(t *testing.T, ctx context.Context, c *ent.Client, after changes.Cursor, f changes.Filter) []changes.Event {
	t.Helper()
	settle(t, c)
	var out []changes.Event
	for {
		p, err := changes.Since(ctx, c, after, f, 2) // small pages: the paging is exercised
		require.NoError(t, err)
		out = append(out, p.Events...)
		if !p.More {
			return out
		}
		after = p.Next
	}
}

func TestStreamOrderAndShape(t *testing.T) {
	f := newFixture(t)
	cu := f.c.Customer.Create().SetBankID(f.a.ID).SetLegalName("Ada Lovelace").SaveX(f.sys)
	f.c.Customer.UpdateOneID(cu.ID).SetEmail("ada@example.com").ExecX(f.sys)
	p := f.c.Product.Create().SetCustomerID(cu.ID).SetProductCode("WALLET").SaveX(f.sys)
	other := f.c.Customer.Create().SetBankID(f.b.ID).SetLegalName("Bob B").SaveX(f.sys)
	f.c.Customer.DeleteOneID(other.ID).ExecX(f.sys)

	evs := all(t, f.sys, f.c, f.start, changes.Filter{})
	require.Len(t, evs, 5)
	type row struct {
		op, typ string
		id      uuid.UUID
	}
	var got []row
	for i, e := range evs {
		got = append(got, row{e.Op, e.EntityType, e.EntityID})
		if i > 0 {
			assert.True(t, e.Cursor.After(evs[i-1].Cursor), "strictly ordered")
		}
		assert.Equal(t, "system", e.ActorKind)
		assert.False(t, e.At.IsZero())
	}
	assert.Equal(t, []row{{"CREATE", "Customer", cu.ID}, {"UPDATE", "Customer", cu.ID}, {"CREATE", "Product", p.ID},
		{"CREATE", "Customer", other.ID}, {"DELETE", "Customer", other.ID}}, got)
	assert.Equal(t, []string{"email"}, evs[1].Fields)
	assert.Equal(t, f.a.ID, *evs[2].BankID)
	assert.Equal(t, cu.ID, *evs[2].CustomerID, "a product's change is of its customer")

	// Cursors are opaque strings that read back, and resume exactly after.
	c, err := changes.ParseCursor(evs[2].Cursor.String())
	require.NoError(t, err)
	assert.Equal(t, evs[2].Cursor, c)
	rest := all(t, f.sys, f.c, c, changes.Filter{})
	assert.Equal(t, evs[3:], rest)
	_, err = changes.ParseCursor("nonsense")
	assert.Error(t, err)

	// Filters.
	byCustomer := all(t, f.sys, f.c, f.start, changes.Filter{CustomerID: &cu.ID})
	assert.Len(t, byCustomer, 3)
	products := all(t, f.sys, f.c, f.start, changes.Filter{EntityTypes: []string{"Product"}})
	require.Len(t, products, 1)
	assert.Equal(t, p.ID, products[0].EntityID)
	atB := all(t, f.sys, f.c, f.start, changes.Filter{BankIDs: []uuid.UUID{f.b.ID}})
	assert.Len(t, atB, 2)
}

func TestStreamTellsOnlyWhatTheViewerMayRead(t *testing.T) {
	f := newFixture(t)
	cu := f.c.Customer.Create().SetBankID(f.a.ID).SetLegalName("Ada Lovelace").SaveX(f.sys)
	f.c.Product.Create().SetCustomerID(cu.ID).SetProductCode("WALLET").SaveX(f.sys)
	f.c.Customer.Create().SetBankID(f.b.ID).SetLegalName("Bob B").SaveX(f.sys)

	customersAtA := all(t, viewer(f.a.ID, access.CanGetCustomer), f.c, f.start, changes.Filter{})
	require.Len(t, customersAtA, 1, "customers of bank A only; no products without the product role")
	assert.Equal(t, cu.ID, customersAtA[0].EntityID)

	both := all(t, viewer(f.a.ID, access.CanGetCustomer, access.CanGetCustomerProduct), f.c, f.start, changes.Filter{})
	assert.Len(t, both, 2)

	// Asking for another bank's events gives nothing.
	none := all(t, viewer(f.a.ID, access.CanGetCustomer), f.c, f.start, changes.Filter{BankIDs: []uuid.UUID{f.b.ID}})
	assert.Empty(t, none)

	_, err := changes.Since(context.Background(), f.c, f.start, changes.Filter{}, 10)
	assert.Error(t, err, "nobody logged in")
}

// TestStreamWaitsForOlderTransactions: on PostgreSQL a transaction that
// started writing first may commit last; the stream never hands out a
// cursor past it before it ends, so no reader skips its events.
func TestStreamWaitsForOlderTransactions(t *testing.T) {
	f := newFixture(t)
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time")
	}
	older, err := f.c.Tx(f.sys)
	require.NoError(t, err)
	defer older.Rollback() //nolint:errcheck
	slow := older.Customer.Create().SetBankID(f.a.ID).SetLegalName("Slow One").SaveX(f.sys)
	// At the other bank: a customer of the same bank may wait for the
	// older transaction's row lock on the bank's count.
	fast := f.c.Customer.Create().SetBankID(f.b.ID).SetLegalName("Fast One").SaveX(f.sys) // commits first

	held, err := changes.Since(f.sys, f.c, f.start, changes.Filter{}, 10)
	require.NoError(t, err)
	assert.Empty(t, held.Events, "held back by the older transaction")
	require.NoError(t, older.Commit())
	evs := all(t, f.sys, f.c, f.start, changes.Filter{})
	require.Len(t, evs, 2)
	assert.Equal(t, slow.ID, evs[0].EntityID, "in the stream's order: the older transaction first")
	assert.Equal(t, fast.ID, evs[1].EntityID)
}

func TestBrokerDeliversLiveAndResumes(t *testing.T) {
	db, _ := testdb.Open(t)
	sys := access.System(context.Background())
	bank := db.Client.Bank.Create().SetCode("a.bank").SetName("A").SaveX(sys)
	settle(t, db.Client)
	br := changes.NewBroker(db.Client, db.Hub, changes.BrokerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)
	v := access.NewViewer(access.KindClient, uuid.New(), "dash", nil, []access.Grant{{Role: access.CanGetCustomer, Bank: bank.ID}})
	customers := changes.Filter{EntityTypes: []string{"Customer"}}
	sub, end, err := br.Subscribe(ctx, nil, customers, func(context.Context) (*access.Viewer, error) { return v, nil })
	require.NoError(t, err)
	var ids []uuid.UUID
	for i := range 3 {
		ids = append(ids, db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("Live "+string(rune('A'+i))).SaveX(sys).ID)
	}
	var got []changes.Delivery
	for range 3 {
		got = append(got, <-sub)
	}
	for i, d := range got {
		assert.Equal(t, ids[i], d.EntityID)
	}
	// Resuming from the first event's cursor replays the two after it.
	ctx2, cancel2 := context.WithCancel(ctx)
	after := got[0].Cursor
	sub2, _, err := br.Subscribe(ctx2, &after, customers, func(context.Context) (*access.Viewer, error) { return v, nil })
	require.NoError(t, err)
	assert.Equal(t, ids[1], (<-sub2).EntityID)
	assert.Equal(t, ids[2], (<-sub2).EntityID)
	cancel2()
	cancel()
	for range sub {
	}
	assert.NoError(t, *end)
}

// TestAnIdleBrokerReadsNothing: with no subscription, a replica's broker
// runs no statement, neither on its fallback poll nor on the signal every
// change sends; the first subscription wakes it at the stream's head, and
// one resuming from a cursor taken while it was idle gets every event
// since, in order.
func TestAnIdleBrokerReadsNothing(t *testing.T) {
	db, statements := testdb.Open(t)
	sys := access.System(context.Background())
	bank := db.Client.Bank.Create().SetCode("a.bank").SetName("A").SaveX(sys)
	settle(t, db.Client)
	br := changes.NewBroker(db.Client, db.Hub, changes.BrokerOptions{PollInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)
	_, err := br.Position(ctx) // the broker has started (it read the head once)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond) // a few polls' time: the broker goes idle

	// Changes while nobody listens: their own statements only.
	before := statements.Load()
	first := db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("Idle A").SaveX(sys)
	perChange := statements.Load() - before
	settle(t, db.Client)
	resumeAt, err := changes.Head(sys, db.Client)
	require.NoError(t, err)
	second := db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("Idle B").SaveX(sys)
	settle(t, db.Client)
	quiet := statements.Load()
	time.Sleep(50 * time.Millisecond) // ten fallback polls' time, after two signals
	assert.Equal(t, quiet, statements.Load(), "an idle broker ran statements")
	assert.Positive(t, perChange)

	v := access.NewViewer(access.KindClient, uuid.New(), "dash", nil, []access.Grant{{Role: access.CanGetCustomer, Bank: bank.ID}})
	see := func(context.Context) (*access.Viewer, error) { return v, nil }
	customers := changes.Filter{EntityTypes: []string{"Customer"}}
	// Resuming from a cursor taken while idle: the event after it, then live ones.
	resumed, _, err := br.Subscribe(ctx, &resumeAt, customers, see)
	require.NoError(t, err)
	// From now on: only what comes next.
	live, _, err := br.Subscribe(ctx, nil, customers, see)
	require.NoError(t, err)
	third := db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("Live C").SaveX(sys)
	next := func(ch <-chan changes.Delivery) uuid.UUID {
		select {
		case d := <-ch:
			return d.EntityID
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
			return uuid.Nil
		}
	}
	assert.Equal(t, second.ID, next(resumed))
	assert.Equal(t, third.ID, next(resumed))
	assert.Equal(t, third.ID, next(live))
	assert.NotEqual(t, first.ID, second.ID)
}

// TestAPageStartsAtItsCursor: a page of the stream reads from its cursor
// on, not every event of the cursor's transaction before it: written as
// txid > pos OR (txid = pos AND id > id), the read could not start at the
// cursor in the index, and a page deep into one long transaction (the demo
// load writes all its events in one) read and dropped all of them before
// the cursor. Counted in rows PostgreSQL read for the page, in its
// transaction's statistics, for the whole stream and one bank's.
func TestAPageStartsAtItsCursor(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("counts rows read through PostgreSQL's statistics; set " + testdb.Env)
	}
	f := newFixture(t)
	const n, limit = 600, 10
	tx, err := f.c.Tx(f.sys)
	require.NoError(t, err)
	builders := make([]*ent.CustomerCreate, n)
	for i := range builders {
		bank := f.a.ID
		if i%2 == 1 {
			bank = f.b.ID
		}
		builders[i] = tx.Customer.Create().SetBankID(bank).SetLegalName("Customer " + uuid.NewString()[:8])
	}
	tx.Customer.CreateBulk(builders...).ExecX(f.sys)
	require.NoError(t, tx.Commit())
	_, err = f.c.ExecContext(f.sys, "ANALYZE audit_events")
	require.NoError(t, err)
	settle(t, f.c)
	evs, err := changes.Since(f.sys, f.c, f.start, changes.Filter{}, changes.MaxLimit)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(evs.Events), n)
	deep := evs.Events[n-100].Cursor // 500 events of the same transaction before it

	for _, c := range []struct {
		what string
		ctx  context.Context
		f    changes.Filter
	}{
		{"the whole stream", f.sys, changes.Filter{}},
		{"one bank's stream", viewer(f.a.ID, access.CanGetCustomer), changes.Filter{}},
		{"one bank's, filtered", f.sys, changes.Filter{BankIDs: []uuid.UUID{f.b.ID}}},
	} {
		t.Run(c.what, func(t *testing.T) {
			tx, err := f.c.Tx(f.sys)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback() }()
			before := rowsRead(t, tx)
			p, err := changes.Since(c.ctx, tx.Client(), deep, c.f, limit)
			require.NoError(t, err)
			require.Len(t, p.Events, limit)
			require.True(t, p.Events[0].Cursor.After(deep))
			read := rowsRead(t, tx) - before
			require.LessOrEqual(t, read, int64(8*limit), "rows PostgreSQL read for a page of %d", limit)
		})
	}
}

// rowsRead is the number of rows scans of audit_events or of its indexes
// returned or fetched in tx's session, not yet flushed to the server's
// statistics (so, within one transaction, the difference of two readings
// counts what ran between them).
func rowsRead(t *testing.T, tx *ent.Tx) int64 {
	t.Helper()
	rows, err := tx.QueryContext(context.Background(), `SELECT sum(pg_stat_get_xact_tuples_returned(o) + pg_stat_get_xact_tuples_fetched(o))
		FROM (SELECT 'audit_events'::regclass::oid AS o
			UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid = 'audit_events'::regclass) AS r`)
	require.NoError(t, err)
	defer rows.Close()
	var n int64
	require.True(t, rows.Next())
	require.NoError(t, rows.Scan(&n))
	return n
}

// TestFailingPollLogsLittle: while every poll fails (the database is
// gone), the broker logs the failure once, not at every poll (ten lines a
// second during a review's outage; the README promises a small log).
func TestFailingPollLogsLittle(t *testing.T) {
	db, _ := testdb.Open(t)
	var logs lockedLog
	br := changes.NewBroker(db.Client, db.Hub, changes.BrokerOptions{PollInterval: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go br.Run(ctx)
	v := access.NewViewer(access.KindClient, uuid.New(), "dash", nil, nil)
	_, _, err := br.Subscribe(ctx, nil, changes.Filter{}, func(context.Context) (*access.Viewer, error) { return v, nil })
	require.NoError(t, err)
	require.NoError(t, db.Client.Close())
	for logs.count("polling failed") == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // some hundred failed polls
	assert.Equal(t, 1, logs.count("polling failed"), "%s", logs.String())
}

// lockedLog is a log destination safe for concurrent writers.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedLog) count(s string) int { return strings.Count(l.String(), s) }
