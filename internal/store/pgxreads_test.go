package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
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

	// Values beyond the entity's fields: what database/sql gives for each.
	exprs := map[string]string{
		"as_uuid":    `"customers"."id"`,
		"as_numeric": `"customers"."credit_limit_amount"`,
		"as_jsonb":   `"customers"."labels"`,
		"as_int":     `42::bigint`,
		"as_null":    `NULL::text`,
		"as_time":    `"customers"."created_at"`,
	}
	q := c.Customer.Query().Where(customer.ID(made.ID))
	q.Modify(func(s *entsql.Selector) {
		for name, e := range exprs {
			s.AppendSelectExprAs(entsql.Expr(e), name)
		}
	})
	row := q.OnlyX(sys)
	for name, e := range exprs {
		var want any
		require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT `+e+` FROM customers WHERE id = $1`, made.ID).Scan(&want), name)
		v, err := row.Value(name)
		require.NoError(t, err, name)
		require.Equal(t, want, v, name)
	}
}

// TestReadsKeepTheirConnections: database/sql keeps at most a few of its
// connections idle after a burst of transactions, so that pgx's reads,
// which take theirs from the same pool, still get one. With every
// connection idle in database/sql a read would wait for ever.
func TestReadsKeepTheirConnections(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("pgx's reads are PostgreSQL's")
	}
	_, _, dsn := testdb.OpenDSN(t)
	db, err := store.Open(context.Background(), dsn, store.Options{MaxOpenConns: 5, NoMigrate: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	sys := access.System(context.Background())
	// Four transactions at once: database/sql opens its four connections
	// (the fifth is the change listener's).
	var g errgroup.Group
	start := make(chan struct{})
	for range 4 {
		g.Go(func() error {
			tx, err := db.Client.Tx(sys)
			if err != nil {
				return err
			}
			<-start
			if _, err := tx.Bank.Query().Count(sys); err != nil {
				return err
			}
			return tx.Commit()
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(start)
	require.NoError(t, g.Wait())
	require.Equal(t, 4, db.SQL.Stats().MaxOpenConnections)

	ctx, cancel := context.WithTimeout(sys, 5*time.Second)
	defer cancel()
	_, err = db.Client.Bank.Query().Count(ctx)
	require.NoError(t, err, "a read after the transactions: %+v", db.SQL.Stats())
}
