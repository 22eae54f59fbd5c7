package rest_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/customer"
	"custgraph/internal/testdb"
)

// TestBSAIReplaceWaitsForAConcurrentChange: bankingservice.ai's PUT is a
// full replace, computed as a difference from the customer it reads. On
// PostgreSQL it read the customer without a lock, so a change committed
// while the PUT ran was not seen: a PUT racing the removal of the primary
// address answered 404 for the address it had just read (and two PUTs at
// once could both answer 200 and store a mix of the two). The PUT now reads
// the customer and its primary address locked, waits for the other change
// and replaces its result, whichever of the two the change touched.
// SQLite runs one write at a time.
func TestBSAIReplaceWaitsForAConcurrentChange(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time; set " + testdb.Env)
	}
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	for _, c := range []struct {
		what   string
		change func(tx *ent.Tx, id uuid.UUID) error // another door's, not committed while the PUT starts
	}{
		{"the customer renamed and its primary address removed", func(tx *ent.Tx, id uuid.UUID) error {
			if err := tx.Customer.UpdateOneID(id).SetLastName("Roe").Exec(e.sys); err != nil {
				return err
			}
			_, err := tx.Address.Delete().Where(address.CustomerID(id)).Exec(e.sys)
			return err
		}},
		{"its primary address removed alone", func(tx *ent.Tx, id uuid.UUID) error {
			_, err := tx.Address.Delete().Where(address.CustomerID(id)).Exec(e.sys)
			return err
		}},
		{"its primary address changed alone", func(tx *ent.Tx, id uuid.UUID) error {
			_, err := tx.Address.Update().Where(address.CustomerID(id)).SetPostcode("9999 ZZ").SetState("Utrecht").Save(e.sys)
			return err
		}},
	} {
		t.Run(c.what, func(t *testing.T) {
			res := e.call(t, http.MethodPost, bsaiPath, tok, bsaiSeedBody())
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			id := uuid.MustParse(bsaiCheckCustomer(t, res.object(t), bsaiSeedBody()))

			tx, err := e.db.Client.Tx(e.sys)
			require.NoError(t, err)
			require.NoError(t, c.change(tx, id))
			in := bsaiSeedBody()
			in["first_name"] = "Jane"
			in["address"].(map[string]any)["locality"] = "Amsterdam"
			put := make(chan reply, 1)
			go func() { put <- e.call(t, http.MethodPut, bsaiPath+"/"+id.String(), tok, in) }()
			testdb.WaitForLockWaiter(t, e.db.SQL) // the PUT waits for the change
			require.NoError(t, tx.Commit())

			res = <-put
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			bsaiCheckCustomer(t, res.object(t), in)
			cu, err := e.db.Client.Customer.Query().Where(customer.ID(id)).WithAddresses().Only(e.sys)
			require.NoError(t, err)
			require.Equal(t, [3]string{"Jane", "Doe", "Jane Doe"}, [3]string{cu.FirstName, cu.LastName, cu.LegalName}, "the PUT's names, all of them")
			require.Len(t, cu.Edges.Addresses, 1, "the PUT's address")
			ad := cu.Edges.Addresses[0]
			require.True(t, ad.IsPrimary)
			require.Equal(t, [3]string{"Amsterdam", "text", "Noord-Holland"}, [3]string{ad.City, ad.Postcode, ad.State}, "the PUT's address, all of it")
		})
	}
}

// TestRolledBackForAConcurrentChangeSaysRetry: a change PostgreSQL rolls
// back for a concurrent one's sake (a deadlock, 40P01) stored nothing and
// may succeed when sent again. The REST doors answered it as an outage,
// "the database is unavailable: retry later"; they now say what GraphQL
// says (README, "An outage is not a fault"): 503, Retry-After, "the change
// met a concurrent one and was rolled back: retry it". The deadlock is made
// on purpose: another transaction holds the primary address the PUT waits
// for, then asks for the customer the PUT holds, and waits longer than the
// PUT before it looks for a deadlock, so the PUT is the one rolled back.
func TestRolledBackForAConcurrentChangeSaysRetry(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time; set " + testdb.Env)
	}
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	res := e.call(t, http.MethodPost, bsaiPath, tok, bsaiSeedBody())
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	id := uuid.MustParse(bsaiCheckCustomer(t, res.object(t), bsaiSeedBody()))

	tx, err := e.db.Client.Tx(e.sys)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(e.sys, "SET LOCAL deadlock_timeout = '30s'")
	require.NoError(t, err)
	_, err = tx.Address.Update().Where(address.CustomerID(id)).SetState("Utrecht").Save(e.sys)
	require.NoError(t, err)
	put := make(chan reply, 1)
	go func() { put <- e.call(t, http.MethodPut, bsaiPath+"/"+id.String(), tok, bsaiSeedBody()) }()
	testdb.WaitForLockWaiter(t, e.db.SQL) // the PUT holds the customer and waits for the address
	require.NoError(t, tx.Customer.UpdateOneID(id).SetLastName("Roe").Exec(e.sys))
	require.NoError(t, tx.Commit())

	res = <-put
	require.Equal(t, http.StatusServiceUnavailable, res.status, "%s", res.body)
	require.NotEmpty(t, res.header.Get("Retry-After"))
	require.Equal(t, map[string]any{"status": float64(503), "error": "service_unavailable",
		"message": "the change met a concurrent one and was rolled back: retry it"}, res.object(t))
}
