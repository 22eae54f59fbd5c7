package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/ent/predicate"
	"custgraph/internal/access"
	"custgraph/internal/filters"
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
// written before the counting triggers existed, or under the triggers of
// the version that counted all customers only (stop 18's, verbatim), or
// where that version's triggers were installed again after this one's (a
// downgrade, then an upgrade), gets exact counts of every subset, and only
// this version's triggers, when it is opened once.
func TestCountersAreInstalledOnExistingData(t *testing.T) {
	for _, before := range []string{"no counters", "counters of all customers only", "both"} {
		t.Run(before, func(t *testing.T) {
			db, _, dsn := testdb.OpenDSN(t)
			ctx := access.System(context.Background())
			bank := db.Client.Bank.Create().SetCode("gh.29.uk").SetName("Bank").SaveX(ctx)
			for i := range 5 {
				db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName(fmt.Sprint("C", i)).SetLabels([]string{"vip"}).ExecX(ctx)
			}
			// As a database of an earlier version.
			drop := []string{`DROP TRIGGER customers_count_subsets_insert`, `DROP TRIGGER customers_count_subsets_delete`,
				`DROP TRIGGER customers_count_subsets_update`, `DELETE FROM customer_counts`, `DELETE FROM customer_subset_counts`}
			old := []string{`CREATE TRIGGER customers_count_insert AFTER INSERT ON customers BEGIN
  INSERT OR IGNORE INTO customer_counts (bank_id, shard, n) VALUES (NEW.bank_id, 0, 0);
  UPDATE customer_counts SET n = n + 1 WHERE bank_id = NEW.bank_id AND shard = 0;
END`, `CREATE TRIGGER customers_count_delete AFTER DELETE ON customers BEGIN
  UPDATE customer_counts SET n = n - 1 WHERE bank_id = OLD.bank_id AND shard = 0;
END`}
			if testdb.Name() == "postgres" {
				drop = []string{`DROP TRIGGER customers_count_subsets_insert ON customers`, `DROP TRIGGER customers_count_subsets_delete ON customers`,
					`DROP TRIGGER customers_count_subsets_update ON customers`, `DELETE FROM customer_counts`, `DELETE FROM customer_subset_counts`}
				old = []string{`CREATE OR REPLACE FUNCTION custgraph_count_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO customer_counts (bank_id, shard, n) VALUES (NEW.bank_id, floor(random() * 8)::int, 1)
    ON CONFLICT (bank_id, shard) DO UPDATE SET n = customer_counts.n + 1;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO customer_counts (bank_id, shard, n) VALUES (OLD.bank_id, floor(random() * 8)::int, -1)
    ON CONFLICT (bank_id, shard) DO UPDATE SET n = customer_counts.n - 1;
  END IF;
  RETURN NULL;
END $$`, `CREATE TRIGGER customers_count AFTER INSERT OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION custgraph_count_customers()`}
			}
			switch before {
			case "no counters":
				old = nil
			case "both":
				drop = nil // this version's triggers stay: the earlier ones count twice
			}
			for _, q := range append(drop, old...) {
				_, err := db.SQL.ExecContext(ctx, q)
				require.NoError(t, err, q)
			}
			db.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("Before the upgrade").ExecX(ctx)
			again, _ := testdb.Reopen(t, dsn)
			// Only this version's triggers are left: an earlier one would
			// count these twice.
			again.Client.Customer.Create().SetBankID(bank.ID).SetLegalName("After the upgrade").SetLabels([]string{"vip"}).ExecX(ctx)
			again.Client.Customer.Delete().Where(customer.LegalName("C0")).ExecX(ctx)
			sum := func(subset string) (n int) {
				q := `SELECT SUM(n) FROM customer_subset_counts WHERE subset = '` + subset + `'`
				if subset == "" {
					q = `SELECT SUM(n) FROM customer_counts`
				}
				require.NoError(t, again.SQL.QueryRowContext(ctx, q).Scan(&n))
				return n
			}
			require.Equal(t, 6, sum(""))
			require.Equal(t, 5, sum("label:vip"))
			require.Equal(t, 6, sum("status:CREATED"))
		})
	}
}

// TestMaintainedSubsetCounts: a list filtered by only a status or only one
// label takes its totalCount from the maintained counts too, and they equal
// a real count after every kind of write that moves a customer in or out of
// a subset: created, deleted, status and labels changed through GraphQL, in
// bulk through ent, by raw SQL (a repeated label, labels that are not an
// array), in a rolled-back transaction and concurrently.
func TestMaintainedSubsetCounts(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	bankA, bankB := e.seedBank("gh.29.uk"), e.seedBank("at.02.0061")
	idsA := e.seedCustomers(bankA, 9, func(i int, c *ent.CustomerCreate) {
		switch i % 3 {
		case 0:
			c.SetLabels([]string{"vip", "a"})
		case 1:
			c.SetLabels([]string{"a"})
		}
		if i%2 == 0 {
			c.SetCustomerStatus(customer.CustomerStatusACTIVE)
		}
	})
	e.seedCustomers(bankB, 4, func(i int, c *ent.CustomerCreate) { c.SetLabels([]string{"vip"}) })

	labels := []string{"vip", "a", "dup", "none-such"}
	statuses := []customer.CustomerStatus{customer.CustomerStatusACTIVE, customer.CustomerStatusCREATED, customer.CustomerStatusSUSPENDED}
	check := func(what string) {
		t.Helper()
		for _, l := range labels {
			var r struct{ Maintained, Counted struct{ TotalCount int } }
			// hasAllLabels is counted by the query itself.
			e.do(`query($l: String!) { maintained: customers(first: 1, where: {hasLabel: $l}) { totalCount }
				counted: customers(first: 1, where: {hasAllLabels: [$l]}) { totalCount } }`, &r, "l", l)
			real := e.client.Customer.Query().Where(filters.HasLabels(l)).CountX(ctx)
			require.Equal(t, real, r.Counted.TotalCount, "%s: label %s counted", what, l)
			require.Equal(t, real, r.Maintained.TotalCount, "%s: label %s maintained", what, l)
		}
		for _, s := range statuses {
			var r struct{ Maintained, Counted struct{ TotalCount int } }
			e.do(`query($s: CustomerCustomerStatus!) { maintained: customers(first: 1, where: {customerStatus: $s}) { totalCount }
				counted: customers(first: 1, where: {customerStatusIn: [$s]}) { totalCount } }`, &r, "s", s)
			real := e.client.Customer.Query().Where(customer.CustomerStatusEQ(s)).CountX(ctx)
			require.Equal(t, real, r.Counted.TotalCount, "%s: status %s counted", what, s)
			require.Equal(t, real, r.Maintained.TotalCount, "%s: status %s maintained", what, s)
		}
	}
	check("seeded")

	e.do(`mutation($id: ID!){ updateCustomer(id: $id, input: {labels: ["a", "vip"], customerStatus: SUSPENDED}) { id } }`,
		&struct{ UpdateCustomer any }{}, "id", idsA[1])
	check("labels and status changed through GraphQL")
	e.do(`mutation($id: ID!){ updateCustomer(id: $id, input: {labels: ["vip", "a"]}) { id } }`,
		&struct{ UpdateCustomer any }{}, "id", idsA[1])
	check("labels reordered")
	e.do(`mutation($id: ID!){ updateCustomer(id: $id, input: {appendLabels: ["dup"]}) { id } }`,
		&struct{ UpdateCustomer any }{}, "id", idsA[2])
	check("a label appended")
	e.do(`mutation($id: ID!){ updateCustomer(id: $id, input: {clearLabels: true}) { id } }`,
		&struct{ UpdateCustomer any }{}, "id", idsA[0])
	check("labels cleared")
	e.do(`mutation($id: ID!){ deleteCustomer(id: $id) }`, &struct{ DeleteCustomer any }{}, "id", idsA[3])
	check("deleted through GraphQL")

	bulk := make([]*ent.CustomerCreate, 30)
	for i := range bulk {
		bulk[i] = e.client.Customer.Create().SetBankID([]uuid.UUID{bankA.ID, bankB.ID}[i%2]).
			SetLegalName(fmt.Sprint("Bulk ", i)).SetLabels([]string{"vip", "a", "dup"}[:i%4])
	}
	e.client.Customer.CreateBulk(bulk...).ExecX(ctx)
	check("created in bulk, in one statement")
	e.client.Customer.Delete().Where(customer.LegalNameHasPrefix("Bulk 1")).ExecX(ctx)
	check("deleted in bulk")

	e.client.Customer.Update().Where(customer.BankID(bankB.ID)).SetCustomerStatus(customer.CustomerStatusACTIVE).ExecX(ctx)
	check("status changed in bulk")
	e.client.Customer.Update().Where(customer.BankID(bankB.ID)).SetLabels([]string{"a"}).ExecX(ctx)
	check("labels set in bulk")

	tx, err := e.client.Tx(ctx)
	require.NoError(t, err)
	tx.Customer.UpdateOneID(idsA[4]).SetLabels([]string{"dup"}).ExecX(ctx)
	tx.Customer.Create().SetBankID(bankA.ID).SetLabels([]string{"dup"}).SetLegalName("Rolled Back").ExecX(ctx)
	require.NoError(t, tx.Rollback())
	check("a rolled-back update and insert")

	for _, q := range []string{
		`UPDATE customers SET labels = '["dup", "dup", 7, null]' WHERE id = $1`, // a label twice, and not strings
		`UPDATE customers SET labels = '"dup"' WHERE id = $1`,                   // not an array
		`UPDATE customers SET labels = '{"k": "dup"}' WHERE id = $1`,
		`UPDATE customers SET labels = 'null' WHERE id = $1`,
		`UPDATE customers SET labels = NULL, customer_status = 'REVIEW' WHERE id = $1`,
	} {
		if testdb.Name() != "postgres" {
			q = strings.ReplaceAll(q, "$1", "?")
		}
		_, err := e.db.SQL.ExecContext(ctx, q, idsA[5])
		require.NoError(t, err, q)
		check(q)
	}

	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 4 {
				id := idsA[[]int{0, 1, 2, 4, 6, 7}[i]]
				l := []string{"vip", "a", "dup"}[(i+j)%3]
				err := e.client.Customer.UpdateOneID(id).SetLabels([]string{l}).Exec(ctx)
				if err != nil && !strings.Contains(err.Error(), "locked") {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	check("concurrent label changes")

	// The maintained count is what answers: a count moved by hand shows.
	_, err = e.db.SQL.ExecContext(ctx, `UPDATE customer_subset_counts SET n = n + 100 WHERE id = (SELECT min(id) FROM customer_subset_counts WHERE subset = 'label:vip')`)
	require.NoError(t, err)
	var r struct{ Customers struct{ TotalCount int } }
	e.do(`{ customers(first: 1, where: {hasLabel: "vip"}) { totalCount } }`, &r)
	require.Equal(t, 100+e.client.Customer.Query().Where(filters.HasLabels("vip")).CountX(ctx), r.Customers.TotalCount)

	// A caller bound to one bank counts that bank's subset only, from its
	// counts (one statement beside the page); a caller with no role for
	// customers is refused before any count.
	e.viewer = access.NewViewer(access.KindClient, uuid.New(), "partner", &bankB.ID, []access.Grant{{Role: access.CanGetCustomer, Bank: bankB.ID}})
	for _, l := range labels {
		e.do(`query($l: String!) { customers(first: 1, where: {hasLabel: $l}) { totalCount } }`, &r, "l", l)
		require.Equal(t, e.client.Customer.Query().Where(customer.BankID(bankB.ID), filters.HasLabels(l)).CountX(ctx), r.Customers.TotalCount, l)
		require.LessOrEqual(t, e.sql(), int64(2), "the page and its count")
	}
	e.viewer = access.NewViewer(access.KindClient, uuid.New(), "nobody", &bankB.ID, nil)
	resp, err := e.gql.RawPost(`{ customers(first: 1, where: {hasLabel: "vip"}) { totalCount } }`)
	require.NoError(t, err)
	require.Contains(t, string(resp.Errors), "FORBIDDEN")
	require.Zero(t, e.sql(), "refused before any statement")
}

// TestMaintainedCountsOfOneBank: a customer list narrowed to one bank
// (bankID, or hasBankWith that bank's code), alone or with a status or one
// label, takes its totalCount from that bank's maintained counts, as a
// dashboard's bank tabs ask, and it equals a real count; a bank the caller
// may not read in full, or any other filter beside it, is counted by the
// query.
func TestMaintainedCountsOfOneBank(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	bankA, bankB := e.seedBank("gh.29.uk"), e.seedBank("at.02.0061")
	e.seedCustomers(bankA, 7, func(i int, c *ent.CustomerCreate) {
		if i%2 == 0 {
			c.SetLabels([]string{"vip"}).SetCustomerStatus(customer.CustomerStatusACTIVE)
		}
	})
	e.seedCustomers(bankB, 3, func(i int, c *ent.CustomerCreate) { c.SetLabels([]string{"vip"}) })

	type total struct{ TotalCount int }
	ask := func(where string) int { // with $a: bank A's id, $code: its code
		t.Helper()
		var decl []string
		var vars []any
		if strings.Contains(where, "$a") {
			decl, vars = append(decl, "$a: ID!"), append(vars, "a", bankA.ID)
		}
		if strings.Contains(where, "$code") {
			decl, vars = append(decl, "$code: String!"), append(vars, "code", "gh.29.uk")
		}
		op := "query"
		if len(decl) > 0 {
			op += "(" + strings.Join(decl, ", ") + ")"
		}
		var r struct{ Customers total }
		e.do(op+` { customers(first: 1, where: `+where+`) { totalCount } }`, &r, vars...)
		return r.Customers.TotalCount
	}
	narrowed := []struct {
		where string
		real  []predicate.Customer
	}{
		{`{bankID: $a}`, nil},
		{`{hasBankWith: [{code: $code}]}`, nil},
		{`{bankID: $a, customerStatus: ACTIVE}`, []predicate.Customer{customer.CustomerStatusEQ(customer.CustomerStatusACTIVE)}},
		{`{hasBankWith: [{code: $code}], hasLabel: "vip"}`, []predicate.Customer{filters.HasLabels("vip")}},
	}
	for _, c := range narrowed {
		real := e.client.Customer.Query().Where(append(c.real, customer.BankID(bankA.ID))...).CountX(ctx)
		require.Equal(t, real, ask(c.where), c.where)
		require.LessOrEqual(t, e.sql(), int64(2), "%s: the bank's id by its code, and its counts", c.where)
	}

	// The maintained counts are what answer: counts moved by hand show, in
	// bank A's lists only.
	q := `UPDATE customer_counts SET n = n + 100 WHERE id = (SELECT min(id) FROM customer_counts WHERE bank_id = $1)`
	qs := `UPDATE customer_subset_counts SET n = n + 100 WHERE id = (SELECT min(id) FROM customer_subset_counts WHERE bank_id = $1 AND subset = 'label:vip')`
	for _, q := range []string{q, qs} {
		if testdb.Name() != "postgres" {
			q = strings.ReplaceAll(q, "$1", "?")
		}
		_, err := e.db.SQL.ExecContext(ctx, q, bankA.ID)
		require.NoError(t, err)
	}
	require.Equal(t, 107, ask(`{bankID: $a}`))
	require.Equal(t, 107, ask(`{hasBankWith: [{code: $code}]}`))
	require.Equal(t, 104, ask(`{hasBankWith: [{code: $code}], hasLabel: "vip"}`))
	require.Equal(t, 3, ask(`{hasBankWith: [{code: "at.02.0061"}]}`))
	// Other filters beside the bank are counted by the query.
	require.Equal(t, 7, ask(`{bankID: $a, hasBankWith: [{code: $code}]}`))
	require.Equal(t, 7, ask(`{hasBankWith: [{code: $code, name: "Bank gh.29.uk"}]}`))
	require.Equal(t, 7, ask(`{bankIDIn: [$a]}`))
	require.Equal(t, 0, ask(`{hasBankWith: [{code: "none.such"}]}`), "no such bank: no customer")

	// A caller bound to bank B reads none of A's customers: A's list is
	// counted by the query (and is empty), B's from its counts.
	e.viewer = access.NewViewer(access.KindClient, uuid.New(), "partner", &bankB.ID, []access.Grant{{Role: access.CanGetCustomer, Bank: bankB.ID}})
	require.Equal(t, 0, ask(`{bankID: $a}`))
	require.Equal(t, 0, ask(`{hasBankWith: [{code: $code}]}`))
	require.Equal(t, 3, ask(`{hasBankWith: [{code: "at.02.0061"}], hasLabel: "vip"}`))

	// A caller with no role for customers is refused, whatever the bank,
	// known or not (helper 25's review: an unknown code answered 0).
	e.viewer = access.NewViewer(access.KindClient, uuid.New(), "nobody", &bankB.ID, nil)
	for _, where := range []string{`{bankID: "` + bankA.ID.String() + `"}`, `{hasBankWith: [{code: "gh.29.uk"}]}`, `{hasBankWith: [{code: "none.such"}]}`} {
		errs := e.fail(`{ customers(first: 1, where: ` + where + `) { totalCount } }`)
		require.Equal(t, "FORBIDDEN", errs[0].Extensions["code"], where)
	}
}
