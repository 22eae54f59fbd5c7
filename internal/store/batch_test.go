package store_test

import (
	"context"
	"encoding/json"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/customer"
	"custgraph/ent/product"
	"custgraph/internal/access"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// openSeeded opens a fresh database with seedTwoCustomers' rows; the test
// is skipped on SQLite (batches are pgx's).
func openSeeded(t *testing.T) (*store.DB, context.Context) {
	t.Helper()
	if testdb.Name() != "postgres" {
		t.Skip("batches are pgx's")
	}
	db, _ := testdb.Open(t)
	seedTwoCustomers(t, db.Client)
	return db, access.System(context.Background())
}

// divideByZero fails its statement on the server.
func divideByZero(s *entsql.Selector) {
	s.Where(entsql.ExprP("1 / (SELECT count(*) - count(*) FROM banks) = 1"))
}

// seedTwoCustomers makes two customers, with products and addresses
// (one customer has none of either).
func seedTwoCustomers(t *testing.T, c *ent.Client) {
	t.Helper()
	sys := access.System(context.Background())
	b := c.Bank.Create().SetCode("gh.29.uk").SetName("Test Bank").SaveX(sys)
	ada := c.Customer.Create().SetBankID(b.ID).SetLegalName("Ada Lovelace").SaveX(sys)
	c.Customer.Create().SetBankID(b.ID).SetLegalName("Grace Hopper").SaveX(sys)
	c.Product.Create().SetCustomerID(ada.ID).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(sys)
	c.Product.Create().SetCustomerID(ada.ID).SetProductCode(product.ProductCodeWALLET).SaveX(sys)
	c.Address.Create().SetCustomerID(ada.ID).SetLine1("12 St James's Square").SetCity("London").
		SetPostcode("SW1Y 4JH").SetCountryCode("GB").SaveX(sys)
}

// TestEagerLoadsShareARoundTrip: a query's eager loads of different edges
// (a page's products and addresses) go to PostgreSQL as one batch, and
// read what database/sql reads one statement at a time. The statements
// are counted as before, one each.
func TestEagerLoadsShareARoundTrip(t *testing.T) {
	db, sys := openSeeded(t)
	page := func(ctx context.Context, c *ent.Client) []*ent.Customer {
		return c.Customer.Query().
			WithProducts(func(q *ent.ProductQuery) { q.Order(product.ByProductCode()) }).
			WithAddresses(func(q *ent.AddressQuery) { q.Order(address.ByLine1()) }).
			WithBank().
			Order(customer.ByLegalName()).AllX(ctx)
	}
	want := page(sys, ent.NewClient(ent.Driver(db.Driver))) // database/sql, one after the other

	before := sent(db)
	ctx, n := store.WithCounter(sys)
	have := page(ctx, db.Client)
	require.Equal(t, [2]int64{1, 3}, sent(db).minus(before), "one batch of 3 statements")
	require.Equal(t, int64(4), n.N(), "customers, then products, addresses and the bank together")

	require.Len(t, have, 2)
	require.Len(t, have[0].Edges.Products, 2)
	require.Len(t, have[0].Edges.Addresses, 1)
	require.Empty(t, have[1].Edges.Products)
	require.NotNil(t, have[1].Edges.Bank)
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	haveJSON, err := json.Marshal(have)
	require.NoError(t, err)
	require.JSONEq(t, string(wantJSON), string(haveJSON))
	require.Zero(t, db.Pool.Stat().AcquiredConns()-int32(db.SQL.Stats().OpenConnections), "connections left out of the pool")
}

// TestAFailingStatementFailsItsBatchNotThePool: a statement of a batch
// that fails on the server (here a division by zero) fails the query, and
// the connection goes back to the pool in a state to serve the next.
func TestAFailingStatementFailsItsBatchNotThePool(t *testing.T) {
	db, sys := openSeeded(t)
	zero := divideByZero
	for _, failing := range []string{"products", "addresses"} {
		before := sent(db)
		q := db.Client.Customer.Query()
		if failing == "products" {
			q.WithProducts(func(q *ent.ProductQuery) { q.Where(zero) }).WithAddresses()
		} else {
			q.WithProducts().WithAddresses(func(q *ent.AddressQuery) { q.Where(zero) })
		}
		_, err := q.All(sys)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, failing)
		require.Equal(t, "22012", pgErr.Code, "division_by_zero")
		require.Equal(t, [2]int64{1, 2}, sent(db).minus(before))
		require.Zero(t, db.Pool.Stat().AcquiredConns()-int32(db.SQL.Stats().OpenConnections), "connections left out of the pool")
		got := db.Client.Customer.Query().WithProducts().WithAddresses().AllX(sys)
		require.Len(t, got, 2, "the next query, on the same pool")
	}
}

// TestBatchFormatsAreQueryFormats: a batch's results come in the formats
// of pgx's type map (a batch takes no QueryResultFormatsByOID), a single
// read's in the formats it asks for (resultFormats). They agree for every
// column type of the schema, so that a value reads the same either way.
func TestBatchFormatsAreQueryFormats(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("batches are pgx's")
	}
	ctx := context.Background()
	db, _ := testdb.Open(t)
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT a.atttypid FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`)
	require.NoError(t, err)
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(oids), 8, "the schema's column types")
	conn, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	m := conn.Conn().TypeMap()
	for _, oid := range oids {
		want, ok := store.ResultFormats[oid]
		if !ok {
			want = pgx.TextFormatCode
		}
		require.Equal(t, want, m.FormatCodeForOID(oid), "column type %d", oid)
	}
}

// TestReadsIDReadsTheRowsEdgesWithIt: a query that reads the row of a
// known id (ReadsID, what Query.node runs) reads the edges keyed by that id
// together with the row, in one batch; an edge keyed by a foreign key of
// the row (its bank) waits for the row. Where the row is absent or not
// matched, what the loads read or met is dropped: not found, as before.
func TestReadsIDReadsTheRowsEdgesWithIt(t *testing.T) {
	db, sys := openSeeded(t)
	ada := db.Client.Customer.Query().Where(customer.LegalName("Ada Lovelace")).OnlyX(sys)
	viaSQL := ent.NewClient(ent.Driver(db.Driver))
	want := viaSQL.Customer.Query().Where(customer.ID(ada.ID)).WithProducts().WithAddresses().OnlyX(sys)

	// read returns the customer, the batches sent (batches, statements in
	// them) and the statements run.
	read := func(q *ent.CustomerQuery) (*ent.Customer, [2]int64, int64, error) {
		ctx, n := store.WithCounter(sys)
		before := sent(db)
		c, err := q.Only(ctx)
		return c, sent(db).minus(before), n.N(), err
	}
	have, batches, statements, err := read(db.Client.Customer.Query().ReadsID(ada.ID).WithProducts().WithAddresses())
	require.NoError(t, err)
	require.Equal(t, [2]int64{1, 3}, batches, "the row, its products and its addresses in one batch")
	require.Equal(t, int64(3), statements)
	require.Len(t, have.Edges.Products, 2)
	require.Len(t, have.Edges.Addresses, 1)
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	haveJSON, err := json.Marshal(have)
	require.NoError(t, err)
	require.JSONEq(t, string(wantJSON), string(haveJSON))

	// With the bank: it is keyed by the row's bank_id, so the row comes
	// first, then the three edges together.
	have, batches, statements, err = read(db.Client.Customer.Query().ReadsID(ada.ID).WithProducts().WithAddresses().WithBank())
	require.NoError(t, err)
	require.Equal(t, [2]int64{1, 3}, batches, "the row alone, then its three edges")
	require.Equal(t, int64(4), statements)
	require.Len(t, have.Edges.Products, 2)
	require.Equal(t, "gh.29.uk", have.Edges.Bank.Code)

	// No such row: not found, whatever the loads read.
	_, batches, _, err = read(db.Client.Customer.Query().ReadsID(uuid.New()).WithProducts().WithAddresses())
	require.True(t, ent.IsNotFound(err), "%v", err)
	require.Equal(t, [2]int64{1, 3}, batches)

	// A load that fails: the query's error where the row is there, not
	// found where the query's other conditions leave it out.
	zero := func(q *ent.ProductQuery) { q.Where(divideByZero) }
	_, _, _, err = read(db.Client.Customer.Query().ReadsID(ada.ID).WithProducts(zero).WithAddresses())
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	for range 20 { // (the members join in any order; the row's statement is sent first)
		_, _, _, err = read(db.Client.Customer.Query().ReadsID(ada.ID).Where(customer.LegalName("Grace Hopper")).WithProducts(zero).WithAddresses())
		require.True(t, ent.IsNotFound(err), "%v", err)
	}
	require.Zero(t, db.Pool.Stat().AcquiredConns()-int32(db.SQL.Stats().OpenConnections), "connections left out of the pool")

	// In a transaction (database/sql's), one statement after the other.
	tx, err := db.Client.Tx(sys)
	require.NoError(t, err)
	defer tx.Rollback()
	have, batches, _, err = read(tx.Customer.Query().ReadsID(ada.ID).WithProducts().WithAddresses())
	require.NoError(t, err)
	require.Zero(t, batches)
	require.Len(t, have.Edges.Products, 2)
}

type batchCount [2]int64 // batches, statements in them

func sent(db *store.DB) batchCount {
	b, s := store.BatchesSent(db)
	return batchCount{b, s}
}

func (c batchCount) minus(d batchCount) [2]int64 { return [2]int64{c[0] - d[0], c[1] - d[1]} }
