package graph_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/auditevent"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// TestConcurrentUpdatesDecideFromTheLatestRow: an update whose rules decide
// from the stored values (a derived legal name follows the names, names
// follow a legal name: ent/schema/hooks.go) decides from the row as a
// concurrent update left it. On PostgreSQL the second update read the row
// as it was before the first committed, then waited for the first's row lock
// only to write: an OBP identity update (legal name) racing a change of the
// first name left "Augusta Lovelace" beside first "Augusta", last "Hopper"
// for good. The old values are read with the row locked (lockOld) now, so
// the second waits before reading. SQLite runs one write at a time.
func TestConcurrentUpdatesDecideFromTheLatestRow(t *testing.T) {
	e, b, ctx := racingEnv(t)
	seed := func() *ent.Customer {
		id := e.seedCustomers(b, 1, func(_ int, c *ent.CustomerCreate) {
			c.SetFirstName("Ada").SetLastName("Lovelace").SetLegalName("Ada Lovelace")
		})[0]
		return e.client.Customer.GetX(ctx, id)
	}
	for _, c := range []struct {
		what                string
		first, second       func(*ent.CustomerUpdateOne)
		wantFirst, wantLast string
		wantLegal           string
	}{
		{"a first name after a legal name",
			func(u *ent.CustomerUpdateOne) { u.SetLegalName("Grace Hopper") },
			func(u *ent.CustomerUpdateOne) { u.SetFirstName("Augusta") },
			"Augusta", "Hopper", "Augusta Hopper"},
		{"a legal name after names set apart from it",
			func(u *ent.CustomerUpdateOne) { u.SetFirstName("Augusta").SetLegalName("Countess of Lovelace") },
			func(u *ent.CustomerUpdateOne) { u.SetLegalName("Grace Hopper") },
			"Augusta", "Lovelace", "Grace Hopper"},
		{"a last name after a legal name set apart from the names",
			func(u *ent.CustomerUpdateOne) { u.SetLegalName("Ada Lovelace").SetFirstName("Augusta") }, // legal name no longer derived
			func(u *ent.CustomerUpdateOne) { u.SetLastName("King") },
			"Augusta", "King", "Ada Lovelace"},
	} {
		t.Run(c.what, func(t *testing.T) {
			cu := seed()
			tx1, err := e.client.Tx(ctx)
			require.NoError(t, err)
			u1 := tx1.Customer.UpdateOneID(cu.ID)
			c.first(u1)
			require.NoError(t, u1.Exec(ctx))
			second := inTxAsync(ctx, e.client, func(tx *ent.Tx) error {
				u2 := tx.Customer.UpdateOneID(cu.ID)
				c.second(u2)
				return u2.Exec(ctx)
			})
			testdb.WaitForLockWaiter(t, e.db.SQL) // the second waits for the first's lock
			require.NoError(t, tx1.Commit())
			require.NoError(t, <-second)
			got := e.client.Customer.GetX(ctx, cu.ID)
			require.Equal(t, [3]string{c.wantFirst, c.wantLast, c.wantLegal}, [3]string{got.FirstName, got.LastName, got.LegalName})
		})
	}
}

// TestMarkingPrimaryTakesTheCustomerFirst: every writer of a customer's
// addresses takes the customer's row, then the address's (a
// bankingservice.ai PUT, an address created primary, the old primary
// cleared). An update marking an address primary took the address's first
// (reading its old values, lockOld) and then the customer's: racing a
// writer holding the customer and about to change that address, each
// waited for the other, and PostgreSQL rolled one back as a deadlock. It
// now takes the customer first, so the two run one after the other.
func TestMarkingPrimaryTakesTheCustomerFirst(t *testing.T) {
	e, b, ctx := racingEnv(t)
	cid := e.seedCustomers(b, 1, nil)[0]
	home := e.client.Address.Create().SetCustomerID(cid).SetLine1("1 Main St").SetCity("Accra").
		SetCountryCode("GH").SetIsPrimary(true).SaveX(ctx)
	work := e.client.Address.Create().SetCustomerID(cid).SetLine1("2 Side St").SetCity("Accra").
		SetCountryCode("GH").SaveX(ctx)

	// A writer of the customer (as a bankingservice.ai PUT): the customer's row first.
	tx1, err := e.client.Tx(ctx)
	require.NoError(t, err)
	require.NoError(t, tx1.Customer.UpdateOneID(cid).SetEmail("new@example.com").Exec(ctx))
	second := inTxAsync(ctx, e.client, func(tx *ent.Tx) error {
		return tx.Address.UpdateOneID(work.ID).SetIsPrimary(true).SetCity("Kumasi").Exec(ctx)
	})
	testdb.WaitForLockWaiter(t, e.db.SQL) // the marking waits for the customer
	// ... then the address the marking is of.
	require.NoError(t, tx1.Address.UpdateOneID(work.ID).SetPostcode("00233").Exec(ctx))
	require.NoError(t, tx1.Commit())
	require.NoError(t, <-second)

	got := e.client.Address.GetX(ctx, work.ID)
	require.Equal(t, [3]any{true, "Kumasi", "00233"}, [3]any{got.IsPrimary, got.City, got.Postcode})
	require.False(t, e.client.Address.GetX(ctx, home.ID).IsPrimary)
}

// TestDeletingACustomerRecordsEveryRecordItTakes: a customer's delete
// writes a delete event for each record that goes with it (the change
// stream's readers drop them). It listed them before the DELETE without a
// lock, so an address committed in between went with the customer (ON
// DELETE CASCADE) without its event. The customer's row is now taken FOR
// UPDATE first, which waits for the address being inserted.
func TestDeletingACustomerRecordsEveryRecordItTakes(t *testing.T) {
	e, b, ctx := racingEnv(t)
	cid := e.seedCustomers(b, 1, nil)[0]

	tx1, err := e.client.Tx(ctx)
	require.NoError(t, err)
	ad := tx1.Address.Create().SetCustomerID(cid).SetLine1("1 Main St").SetCity("Accra").SetCountryCode("GH").SaveX(ctx)
	deleted := inTxAsync(ctx, e.client, func(tx *ent.Tx) error { return tx.Customer.DeleteOneID(cid).Exec(ctx) })
	testdb.WaitForLockWaiter(t, e.db.SQL) // the delete waits for the insert
	require.NoError(t, tx1.Commit())
	require.NoError(t, <-deleted)

	require.False(t, e.client.Address.Query().Where(address.ID(ad.ID)).ExistX(ctx), "the address went with the customer")
	ops := e.client.AuditEvent.Query().Where(auditevent.EntityID(ad.ID)).Order(auditevent.ByTxid(), auditevent.ByID()).
		Select(auditevent.FieldOperation).StringsX(ctx)
	require.Equal(t, []string{"create", "delete"}, ops, "the address's events")
}

// inTxAsync runs change in a transaction of its own, in a goroutine, and
// sends what became of it (change's error, or the commit's) on the channel
// it returns.
func inTxAsync(ctx context.Context, c *ent.Client, change func(tx *ent.Tx) error) <-chan error {
	done := make(chan error, 1)
	go func() {
		tx, err := c.Tx(ctx)
		if err == nil {
			if err = change(tx); err != nil {
				_ = tx.Rollback()
			} else {
				err = tx.Commit()
			}
		}
		done <- err
	}()
	return done
}

// racingEnv is the env of a test of two writers at once: PostgreSQL's
// (SQLite runs one write at a time), with a bank, and custgraph's context.
func racingEnv(t *testing.T) (*env, *ent.Bank, context.Context) {
	t.Helper()
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time; set " + testdb.Env)
	}
	e := newEnv(t)
	return e, e.seedBank("gh.29.uk"), access.System(context.Background())
}

// TestACreateThatLosesToADeleteIsNotFound: a record created for a
// customer that a concurrent change deletes first answers NOT_FOUND, as it
// does when the delete came a moment earlier ("customer not found"), not
// CONFLICT: the create read the customer before the delete committed, and
// PostgreSQL's foreign key check, which waited for the delete, then found
// no customer (23503, "is not present in table").
func TestACreateThatLosesToADeleteIsNotFound(t *testing.T) {
	e, b, ctx := racingEnv(t)
	cid := e.seedCustomers(b, 1, nil)[0]

	tx1, err := e.client.Tx(ctx)
	require.NoError(t, err)
	require.NoError(t, tx1.Customer.DeleteOneID(cid).Exec(ctx))
	type result struct {
		errs []gqlError
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := e.gql.RawPost(`mutation($c: ID!) { createProduct(input: {productCode: WALLET, customerID: $c}) { id } }`,
			vars("c", cid)...)
		var r result
		if r.err = err; err == nil {
			r.err = json.Unmarshal(resp.Errors, &r.errs)
		}
		done <- r
	}()
	testdb.WaitForLockWaiter(t, e.db.SQL) // the create's insert waits for the delete
	require.NoError(t, tx1.Commit())
	r := <-done
	require.NoError(t, r.err)
	require.Len(t, r.errs, 1, "%+v", r.errs)
	require.Equal(t, "NOT_FOUND", r.errs[0].Extensions["code"], "%+v", r.errs[0])
	require.Equal(t, "customer not found", r.errs[0].Message)
	require.False(t, e.client.Product.Query().ExistX(ctx))
}
