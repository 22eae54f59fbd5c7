package graph_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
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
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time; set " + testdb.Env)
	}
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	ctx := access.System(context.Background())
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
			second := make(chan error, 1)
			go func() {
				second <- func() error {
					tx2, err := e.client.Tx(ctx)
					if err != nil {
						return err
					}
					u2 := tx2.Customer.UpdateOneID(cu.ID)
					c.second(u2)
					if err := u2.Exec(ctx); err != nil {
						_ = tx2.Rollback()
						return err
					}
					return tx2.Commit()
				}()
			}()
			testdb.WaitForLockWaiter(t, e.db.SQL) // the second waits for the first's lock
			require.NoError(t, tx1.Commit())
			require.NoError(t, <-second)
			got := e.client.Customer.GetX(ctx, cu.ID)
			require.Equal(t, [3]string{c.wantFirst, c.wantLast, c.wantLegal}, [3]string{got.FirstName, got.LastName, got.LegalName})
		})
	}
}
