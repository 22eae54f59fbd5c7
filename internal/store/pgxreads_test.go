package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/ent/product"
	"custgraph/internal/access"
	"custgraph/internal/exact"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// TestReadsGiveWhatDatabaseSQLGave: ent's reads on PostgreSQL go to pgx
// directly (pgxreads.go), not through database/sql. An entity's fields, a
// NULL in a nullable one, and a value selected beyond its fields (ent's
// Value) read the same as through database/sql.
func TestReadsGiveWhatDatabaseSQLGave(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("pgx's reads are PostgreSQL's")
	}
	ctx := context.Background()
	sys := access.System(ctx)
	db, _ := testdb.Open(t)
	c := db.Client
	b := c.Bank.Create().SetCode("gh.29.uk").SetName("Test Bank").SaveX(sys)
	amount := exact.Decimal{Decimal: decimal.RequireFromString("1234.50")}
	made := c.Customer.Create().SetBankID(b.ID).SetLegalName("Ada Lovelace").
		SetCreditLimitAmount(amount).SetCreditLimitCurrency("EUR").SetLabels([]string{"vip", "sme"}).SaveX(sys)

	dob := time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)
	full := c.Customer.Create().SetBankID(b.ID).SetLegalName("Grace Hopper").SetEmail("grace@example.com").
		SetDateOfBirth(dob).SetDependants(2).SetDobOfDependants([]time.Time{dob, dob.AddDate(30, 0, 0)}).SetKycStatus(true).
		SetEntityID(uuid.New()).SetEntityType("NATURAL_PERSON").SetCustomerStatus("ACTIVE").SetTitle("Dr").SaveX(sys)
	c.Product.Create().SetCustomerID(full.ID).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SetIban("DE89370400440532013000").SaveX(sys)
	c.Product.Create().SetCustomerID(full.ID).SetProductCode(product.ProductCodeWALLET).SetStatus(product.StatusCLOSED).SaveX(sys)

	got := c.Customer.GetX(sys, made.ID)
	require.Equal(t, made.ID, got.ID)
	require.Equal(t, "1234.50", got.CreditLimitAmount.String())
	require.Equal(t, []string{"vip", "sme"}, got.Labels)
	require.Nil(t, got.EntityID, "a NULL uuid")
	require.True(t, got.CreatedAt.Equal(made.CreatedAt), "%v, stored %v", got.CreatedAt, made.CreatedAt)

	// Every field of both customers and their products, NULL or not, as
	// an ent client on database/sql alone reads them.
	viaSQL := ent.NewClient(ent.Driver(db.Driver))
	want := viaSQL.Customer.Query().WithProducts().Order(customer.ByLegalName()).AllX(sys)
	have := c.Customer.Query().WithProducts().Order(customer.ByLegalName()).AllX(sys)
	require.Len(t, have, 2)
	require.Len(t, have[1].Edges.Products, 2)
	// (compared as JSON: each entity also holds its client)
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	haveJSON, err := json.Marshal(have)
	require.NoError(t, err)
	require.JSONEq(t, string(wantJSON), string(haveJSON))
	for i := range have {
		require.Equal(t, want[i].CreatedAt, have[i].CreatedAt, "the same instant in the same location")
	}
	require.Equal(t, 2, have[1].Dependants)
	require.True(t, have[1].KycStatus)
	require.NotNil(t, have[1].EntityID)

	// Values beyond the entity's fields: what ent on database/sql gives
	// for each (a numeric as a float64, a jsonb as a string, ...).
	exprs := map[string]string{
		"as_uuid":    `"customers"."id"`,
		"as_numeric": `"customers"."credit_limit_amount"`,
		"as_jsonb":   `"customers"."labels"`,
		"as_bytea":   `'\\x0102'::bytea`,
		"as_int":     `42::bigint`,
		"as_int4":    `7::int4`,
		"as_bool":    `true`,
		"as_null":    `NULL::text`,
		"as_time":    `"customers"."created_at"`,
		"as_rownum":  `row_number() OVER ()`,
	}
	selected := func(c *ent.Client) *ent.Customer {
		q := c.Customer.Query().Where(customer.ID(made.ID))
		q.Modify(func(s *entsql.Selector) {
			for name, e := range exprs {
				s.AppendSelectExprAs(entsql.Expr(e), name)
			}
		})
		return q.OnlyX(sys)
	}
	row, old := selected(c), selected(viaSQL)
	for name := range exprs {
		want, err := old.Value(name)
		require.NoError(t, err, name)
		v, err := row.Value(name)
		require.NoError(t, err, name)
		require.Equal(t, want, v, name)
	}
	require.IsType(t, float64(0), mustValue(t, row, "as_numeric"))
}

// TestRowTextInOneAllocation: the text columns of a row are read into one
// buffer (pgxRows.Scan), their strings side by side in it, with a NULL
// and an empty text as database/sql gave them.
func TestRowTextInOneAllocation(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("pgx's reads are PostgreSQL's")
	}
	sys := access.System(context.Background())
	db, _ := testdb.Open(t)
	c := db.Client
	b := c.Bank.Create().SetCode("gh.29.uk").SetName("Test Bank").SaveX(sys)
	made := c.Customer.Create().SetBankID(b.ID).SetLegalName("Zoë Ångström-Ōtsuka").SetFirstName("Zoë").
		SetEmail("zoe@example.com").SetTitle("").SaveX(sys)

	got := c.Customer.Query().Where(customer.ID(made.ID)).
		Select(customer.FieldLegalName, customer.FieldFirstName, customer.FieldEmail, customer.FieldTitle, customer.FieldLastName).OnlyX(sys)
	want := ent.NewClient(ent.Driver(db.Driver)).Customer.Query().Where(customer.ID(made.ID)).
		Select(customer.FieldLegalName, customer.FieldFirstName, customer.FieldEmail, customer.FieldTitle, customer.FieldLastName).OnlyX(sys)
	require.Equal(t, "Zoë Ångström-Ōtsuka", got.LegalName)
	require.Equal(t, "Zoë", got.FirstName)
	require.Equal(t, "zoe@example.com", got.Email)
	require.Equal(t, want.Title, got.Title, "an empty text")
	require.Equal(t, want.LastName, got.LastName, "a NULL text")

	texts := []string{got.LegalName, got.FirstName, got.Email}
	lo, hi, sum := uintptr(1<<63), uintptr(0), 0
	for _, s := range texts {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo, hi, sum = min(lo, p), max(hi, p+uintptr(len(s))), sum+len(s)
	}
	require.Equal(t, uintptr(sum), hi-lo, "the row's strings lie side by side in one buffer")
}

func mustValue(t *testing.T, c *ent.Customer, name string) any {
	t.Helper()
	v, err := c.Value(name)
	require.NoError(t, err)
	return v
}

// TestSchemaToolingOnTheClient: ent's schema tooling (client.Schema, on
// Atlas) inspects the database through the client's driver and needs
// database/sql's rows: it works as before, and leaves no connection out.
func TestSchemaToolingOnTheClient(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("pgx's reads are PostgreSQL's")
	}
	db, _ := testdb.Open(t)
	var out bytes.Buffer
	require.NoError(t, db.Client.Schema.WriteTo(context.Background(), &out))
	require.Zero(t, db.Pool.Stat().AcquiredConns()-int32(db.SQL.Stats().OpenConnections), "connections left out of the pools")
}

// TestReadsKeepHalfThePool: transactions (database/sql) take at most half
// of the pool's connections, so that under a burst of writes the reads
// (pgx's pool) still run side by side on the other half, not one at a
// time on whatever a transaction gave back. Both sides wait on an
// advisory lock held by the test; PostgreSQL's own view of the sessions
// says how many of each got a connection.
func TestReadsKeepHalfThePool(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("pgx's reads are PostgreSQL's")
	}
	ctx := context.Background()
	_, _, dsn := testdb.OpenDSN(t)
	db, err := store.Open(ctx, dsn, store.Options{MaxOpenConns: 6, NoMigrate: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	sys := access.System(ctx)
	require.Equal(t, 3, db.SQL.Stats().MaxOpenConnections)
	db.Client.Bank.Create().SetCode("gh.29.uk").SetName("Test Bank").SaveX(sys) // (a row for the readers' lock)

	// The lock, held on a connection of the test's own.
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	lock, err := admin.Conn(ctx)
	require.NoError(t, err)
	defer lock.Close()
	_, err = lock.ExecContext(ctx, `SELECT pg_advisory_lock(4711)`)
	require.NoError(t, err)
	// waiting counts the sessions waiting on the lock: the reads' (ent's
	// statement on banks) and the transactions'.
	waiting := func() (reads, txs int) {
		require.NoError(t, admin.QueryRowContext(ctx, `SELECT
			count(*) FILTER (WHERE query LIKE '%FROM "banks"%'), count(*) FILTER (WHERE query NOT LIKE '%FROM "banks"%')
			FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&reads, &txs))
		return reads, txs
	}

	var g errgroup.Group
	for range 6 { // writers: twice what database/sql may open
		g.Go(func() error {
			tx, err := db.Client.Tx(sys)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(sys, `SELECT pg_advisory_xact_lock_shared(4711)`); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		})
	}
	for range 3 { // readers, through ent
		g.Go(func() error {
			_, err := db.Client.Bank.Query().Where(func(s *entsql.Selector) {
				s.Where(entsql.ExprP(`pg_advisory_xact_lock_shared(4711) IS NOT NULL`))
			}).Count(sys)
			return err
		})
	}
	reads, txs := 0, 0
	for range 200 { // (a bound on the wait, not a measure: it ends when they are all there)
		if reads, txs = waiting(); reads == 3 && txs == 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = lock.ExecContext(ctx, `SELECT pg_advisory_unlock(4711)`)
	require.NoError(t, err)
	require.NoError(t, g.Wait())
	require.Equal(t, [2]int{3, 3}, [2]int{reads, txs}, "sessions waiting on the lock: reads, transactions")
}

// TestOneEndedSessionKeepsTheOthers: a session ended on the server
// (pg_terminate_backend) costs its own connection, not the pool's others:
// a read fails at most once, and at most one connection is opened again.
func TestOneEndedSessionKeepsTheOthers(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("pgx's reads are PostgreSQL's")
	}
	ctx := context.Background()
	db, _ := testdb.Open(t)
	sys := access.System(ctx)
	var held []*pgxpool.Conn
	for range 4 {
		c, err := db.Pool.Acquire(ctx)
		require.NoError(t, err)
		held = append(held, c)
	}
	victim := held[0].Conn().PgConn().PID()
	for _, c := range held {
		c.Release()
	}
	_, err := db.SQL.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, victim)
	require.NoError(t, err)
	opened := db.Pool.Stat().NewConnsCount()
	var failed atomic.Int32
	for range 5 { // rounds of 4 reads at once: the 4 connections in use
		var g errgroup.Group
		for range 4 {
			g.Go(func() error {
				if _, err := db.Client.Bank.Query().Count(sys); err != nil {
					failed.Add(1)
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
	}
	require.LessOrEqual(t, failed.Load(), int32(1))
	require.LessOrEqual(t, db.Pool.Stat().NewConnsCount()-opened, int64(1), "connections opened again")
}

// TestScanWithoutARowIsAnError: Scan before the first row, or on a result
// without rows, is pgx's error, not a panic of the text buffer's.
func TestScanWithoutARowIsAnError(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("pgx's reads are PostgreSQL's")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(testdb.Env))
	require.NoError(t, err)
	defer pool.Close()
	for _, q := range []string{`SELECT 'a'::text AS x WHERE false`, `SELECT 'a'::text AS x`} {
		rows, err := pool.Query(ctx, q, store.ResultFormats)
		require.NoError(t, err, q)
		defer rows.Close() // (even after a panic: the pool's Close waits for the connection)
		r := store.ScanRows(rows)
		var s sql.NullString
		require.ErrorContains(t, r.Scan(&s), "number of field descriptions must equal number of values", q)
		require.Error(t, r.Close(), "the rows keep the error")
	}
}
