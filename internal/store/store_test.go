package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// TestUserCustomerLinkUniqueness: a user is linked to several customers of
// a bank, each once (OBP's rule; the migration file of this change replaced
// the index of one customer per user and bank).
func TestUserCustomerLinkUniqueness(t *testing.T) {
	sys := access.System(context.Background())
	db, _ := testdb.Open(t)
	c := db.Client
	b := c.Bank.Create().SetCode("gh.29.uk").SetName("Test Bank").SaveX(sys)
	u := c.User.Create().SetUsername("linked").SaveX(sys)
	for range 2 {
		cu := c.Customer.Create().SetBankID(b.ID).SetLegalName("Alice").SaveX(sys)
		_, err := c.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(cu.ID).Save(sys)
		require.NoError(t, err, "a second customer of the same bank")
		_, err = c.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(cu.ID).Save(sys)
		e := store.Classify(err)
		require.Equal(t, "CONFLICT", string(e.Code), "%v", err)
		require.Equal(t, "user_id", e.Field)
	}
}
