package rest_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

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
// the customer locked, waits for the other change and replaces its result.
// SQLite runs one write at a time.
func TestBSAIReplaceWaitsForAConcurrentChange(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time; set " + testdb.Env)
	}
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	res := e.call(t, http.MethodPost, bsaiPath, tok, bsaiSeedBody())
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	id := uuid.MustParse(bsaiCheckCustomer(t, res.object(t), bsaiSeedBody()))

	// Another door's change, not yet committed: the customer renamed and
	// its primary address removed.
	tx, err := e.db.Client.Tx(e.sys)
	require.NoError(t, err)
	require.NoError(t, tx.Customer.UpdateOneID(id).SetLastName("Roe").Exec(e.sys))
	_, err = tx.Address.Delete().Where(address.CustomerID(id)).Exec(e.sys)
	require.NoError(t, err)

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
	c, err := e.db.Client.Customer.Query().Where(customer.ID(id)).WithAddresses().Only(e.sys)
	require.NoError(t, err)
	require.Equal(t, [3]string{"Jane", "Doe", "Jane Doe"}, [3]string{c.FirstName, c.LastName, c.LegalName}, "the PUT's names, all of them")
	require.Len(t, c.Edges.Addresses, 1, "the PUT's address, created again")
	require.Equal(t, "Amsterdam", c.Edges.Addresses[0].City)
	require.True(t, c.Edges.Addresses[0].IsPrimary)
}
