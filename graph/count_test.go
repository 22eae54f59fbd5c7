package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent/customer"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// TestMaintainedCustomerCounts: the totalCount of an unfiltered customer
// list comes from the banks' maintained counts (one small statement, no
// scan of customers) and equals a real count after every kind of write:
// GraphQL mutations, direct writes, deletes, rolled-back transactions and
// concurrent inserts.
func TestMaintainedCustomerCounts(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	bankA, bankB := e.seedBank("gh.29.uk"), e.seedBank("at.02.0061")
	a, b := bankA.ID, bankB.ID
	e.seedCustomers(bankA, 7, nil)
	e.seedCustomers(bankB, 3, nil)

	type counts struct{ All, Counted int }
	check := func(what string) counts {
		t.Helper()
		var r struct {
			Maintained struct{ TotalCount int }
			Counted    struct{ TotalCount int }
		}
		// where: {} is counted by the query itself.
		e.do(`{ maintained: customers(first: 1) { totalCount } counted: customers(first: 1, where: {}) { totalCount } }`, &r)
		require.Equal(t, r.Counted.TotalCount, r.Maintained.TotalCount, what)
		real := e.client.Customer.Query().CountX(ctx)
		require.Equal(t, real, r.Maintained.TotalCount, what)
		return counts{r.Maintained.TotalCount, r.Counted.TotalCount}
	}
	check("seeded")

	var r struct{ CreateCustomer struct{ ID uuid.UUID } }
	e.do(`mutation($b: ID!){ createCustomer(input: {bankID: $b, firstName: "New", lastName: "One"}) { id } }`, &r, "b", a)
	check("created through GraphQL")
	e.do(`mutation($id: ID!){ deleteCustomer(id: $id) }`, &struct{ DeleteCustomer any }{}, "id", r.CreateCustomer.ID)
	check("deleted through GraphQL")

	tx, err := e.client.Tx(ctx)
	require.NoError(t, err)
	tx.Customer.Create().SetBankID(a).SetLegalName("Rolled Back").ExecX(ctx)
	require.NoError(t, tx.Rollback())
	check("a rolled-back insert")

	e.client.Customer.Delete().Where(customer.BankID(b)).ExecX(ctx)
	require.Equal(t, 7, check("a bank emptied").All)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				bank := a
				if j%2 == 1 {
					bank = b
				}
				_, err := e.client.Customer.Create().SetBankID(bank).SetLegalName(fmt.Sprintf("C %d-%d", i, j)).Save(ctx)
				if err != nil && !strings.Contains(err.Error(), "locked") {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	check("concurrent inserts")

	// A caller bound to one bank counts that bank only, from its counts.
	e.viewer = access.NewViewer(access.KindClient, uuid.New(), "partner", &b, []access.Grant{{Role: access.CanGetCustomer, Bank: b}})
	var p struct{ Customers struct{ TotalCount int } }
	e.do(`{ customers(first: 1) { totalCount } }`, &p)
	require.Equal(t, e.client.Customer.Query().Where(customer.BankID(b)).CountX(ctx), p.Customers.TotalCount)
	require.EqualValues(t, 1, e.sql(), "one statement")
}

// TestCountersAreInstalledOnExistingData: a database whose customers were
// written before the counting triggers existed gets exact counts when it is
// opened (and the triggers) once.
func TestCountersAreInstalledOnExistingData(t *testing.T) {
	db, _, dsn := testdb.OpenDSN(t)
	ctx := access.System(context.Background())
	bank := db.Client.Bank.Create().SetCode("gh.29.uk").SetName("Bank").SaveX(ctx)
	for i := range 5 {
		db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName(fmt.Sprint("C", i)).ExecX(ctx)
	}
	// As a database of the version before the counters.
	drop := []string{`DROP TRIGGER customers_count_insert`, `DROP TRIGGER customers_count_delete`}
	if testdb.Name() == "postgres" {
		drop = []string{`DROP TRIGGER customers_count ON customers`}
	}
	for _, q := range append(drop, `DELETE FROM customer_counts`) {
		_, err := db.SQL.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("Before the upgrade").ExecX(ctx)
	again, _ := testdb.Reopen(t, dsn)
	again.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("After the upgrade").ExecX(ctx)
	var n int
	require.NoError(t, again.SQL.QueryRowContext(ctx, `SELECT SUM(n) FROM customer_counts`).Scan(&n))
	require.Equal(t, 7, n)
}
