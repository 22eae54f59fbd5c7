package graph_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent/address"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// TestPrimaryAddressRace: marking a customer's address primary clears the
// one before, even when twenty transactions do it at once: all succeed and
// one address is primary. On PostgreSQL they met the unique index instead
// (14 of 20 CONFLICT in an outside check) until the customer's row was
// locked first; SQLite runs one write at a time.
func TestPrimaryAddressRace(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time; set " + testdb.Env)
	}
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	cid := e.seedCustomers(b, 1, nil)[0]
	ctx := access.System(context.Background())
	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tx, err := e.client.Tx(ctx)
			if err != nil {
				errs <- err
				return
			}
			if _, err := tx.Address.Create().SetCustomerID(cid).SetLine1("1 Main St").SetCity("Accra").
				SetCountryCode("GH").SetIsPrimary(true).Save(ctx); err != nil {
				_ = tx.Rollback()
				errs <- err
				return
			}
			errs <- tx.Commit()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, n, e.client.Address.Query().Where(address.CustomerID(cid)).CountX(ctx))
	require.Equal(t, 1, e.client.Address.Query().Where(address.CustomerID(cid), address.IsPrimary(true)).CountX(ctx))
}
