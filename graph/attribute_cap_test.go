package graph_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/customerattribute"
	"custgraph/ent/schema"
	"custgraph/internal/access"
)

// TestAttributesPerCustomerAreBounded: a customer holds at most
// schema.MaxAttributes attributes (every OBP answer of a customer carries
// all of them, unpaged); one more is CONFLICT, and a deleted one makes
// room. On PostgreSQL, creates that race at the bound do not pass it.
func TestAttributesPerCustomerAreBounded(t *testing.T) {
	e := newEnv(t)
	sys := access.System(context.Background())
	b := e.seedBank("gh.29.uk")
	var c struct{ CreateCustomer struct{ ID uuid.UUID } }
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Many attributes"}) { id } }`, &c, "b", b.ID)
	cid := c.CreateCustomer.ID
	attrs := make([]*ent.CustomerAttributeCreate, schema.MaxAttributes-1)
	for i := range attrs {
		attrs[i] = e.client.CustomerAttribute.Create().SetCustomerID(cid).SetName(fmt.Sprintf("A%03d", i)).
			SetType(customerattribute.TypeSTRING).SetValue("v")
	}
	require.NoError(t, e.client.CustomerAttribute.CreateBulk(attrs...).Exec(sys))

	create := `mutation($c: ID!, $n: String!) {
		createCustomerAttribute(input: {customerID: $c, name: $n, type: STRING, value: "v"}) { id } }`
	var last struct{ CreateCustomerAttribute struct{ ID uuid.UUID } }
	e.do(create, &last, "c", cid, "n", "LAST") // the 100th
	errs := e.fail(create, "c", cid, "n", "ONE MORE")
	require.Equal(t, "CONFLICT", errs[0].Extensions["code"], "%+v", errs[0])
	require.Contains(t, errs[0].Message, fmt.Sprintf("at most %d attributes", schema.MaxAttributes))
	require.Equal(t, schema.MaxAttributes, e.client.CustomerAttribute.Query().Where(customerattribute.CustomerID(cid)).CountX(sys))

	require.NoError(t, e.client.CustomerAttribute.DeleteOneID(last.CreateCustomerAttribute.ID).Exec(sys))
	e.do(create, &last, "c", cid, "n", "ONE MORE")

	if e.db.Dialect != "postgres" {
		return
	}
	// Two below the bound, eight transactions at once: two pass.
	for _, id := range e.client.CustomerAttribute.Query().Where(customerattribute.CustomerID(cid)).Limit(2).IDsX(sys) {
		require.NoError(t, e.client.CustomerAttribute.DeleteOneID(id).Exec(sys))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var passed, conflicts int
	for i := range 8 {
		wg.Go(func() {
			tx, err := e.client.Tx(sys)
			if err != nil {
				t.Error(err)
				return
			}
			err = tx.CustomerAttribute.Create().SetCustomerID(cid).SetName(fmt.Sprintf("RACE%d", i)).
				SetType(customerattribute.TypeSTRING).SetValue("v").Exec(sys)
			if err == nil {
				err = tx.Commit()
			} else {
				_ = tx.Rollback()
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				passed++
			} else {
				conflicts++
			}
		})
	}
	wg.Wait()
	require.Equal(t, 2, passed, "conflicts: %d", conflicts)
	require.Equal(t, schema.MaxAttributes, e.client.CustomerAttribute.Query().Where(customerattribute.CustomerID(cid)).CountX(sys))
}
