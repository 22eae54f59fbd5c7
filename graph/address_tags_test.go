package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
	"custgraph/internal/validate"
)

// An address's tags, joined with ",", fit OBP's 20-character column
// (rest-compat §3.4 #8): ent's rule, so GraphQL refuses what OBP's routes
// refuse, on create, on update and when tags are appended, and writes
// nothing.
func TestAddressTagsFitOBPsColumn(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	ctx := access.System(context.Background())
	refused := func(query string, kv ...any) {
		t.Helper()
		before := e.snapshot()
		errs := e.fail(query, kv...)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%v", errs)
		require.Equal(t, "tags", errs[0].Extensions["field"], "%v", errs)
		require.Contains(t, errs[0].Message, "at most 20 characters")
		require.Equal(t, before, e.snapshot())
	}

	create := `mutation($c: ID!, $tags: [String!]) { createAddress(input: {customerID: $c, tags: $tags}) { id tags } }`
	var created struct {
		CreateAddress struct {
			ID   string
			Tags []string
		}
	}
	// "mailing,home,holiday": 20 characters, the most the column holds.
	e.do(create, &created, "c", f.customer, "tags", []string{"mailing", "home", "holiday"})
	require.Equal(t, []string{"mailing", "home", "holiday"}, created.CreateAddress.Tags)
	id := created.CreateAddress.ID

	refused(create, "c", f.customer, "tags", []string{"mailing", "home", "holidays"})
	refused(create, "c", f.customer, "tags", []string{strings.Repeat("ä", 21)})

	update := `mutation($id: ID!, $tags: [String!]) { updateAddress(id: $id, input: {tags: $tags}) { id tags } }`
	refused(update, "id", id, "tags", []string{"mailing", "home", "holidays"})
	// Appending counts the stored tags too: "mailing,home,holiday,x" is 22.
	refused(`mutation($id: ID!) { updateAddress(id: $id, input: {appendTags: ["x"]}) { id } }`, "id", id)
	require.Equal(t, []string{"mailing", "home", "holiday"}, e.client.Address.Query().OnlyX(ctx).Tags)

	var updated struct{ UpdateAddress struct{ Tags []string } }
	e.do(update, &updated, "id", id, "tags", []string{"work"})
	require.Equal(t, []string{"work"}, updated.UpdateAddress.Tags)
}

// TestConcurrentAppendsKeepTheBounds: two transactions appending to one
// list at once (tags, labels) cannot both pass its bounds: the second
// checks the list as the first left it, and is refused. Each append was
// checked against the list before either, and both were stored (an append
// is one SQL expression). On PostgreSQL, where two writers run at once.
func TestConcurrentAppendsKeepTheBounds(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time")
	}
	e := newEnv(t)
	f := e.fixture()
	ctx := access.System(context.Background())
	a := e.client.Address.Create().SetCustomerID(f.customer).SetTags([]string{"mailing", "home"}).SaveX(ctx) // 12 characters
	long := strings.Repeat("l", validate.MaxLabelLength)
	labels := make([]string, validate.MaxLabels-1)
	for i := range labels {
		labels[i] = fmt.Sprint(long[:60], i)
	}
	e.client.Customer.UpdateOneID(f.customer).SetLabels(labels).ExecX(ctx) // one label short of the most

	for _, c := range []struct {
		what          string
		first, second func(tx *ent.Tx) error
		stored        func() int
		want          int
	}{
		{"tags",
			func(tx *ent.Tx) error { return tx.Address.UpdateOneID(a.ID).AppendTags([]string{"abcd"}).Exec(ctx) },
			func(tx *ent.Tx) error { return tx.Address.UpdateOneID(a.ID).AppendTags([]string{"wxyz"}).Exec(ctx) },
			func() int { return len(e.client.Address.GetX(ctx, a.ID).Tags) }, 3},
		{"labels",
			func(tx *ent.Tx) error {
				return tx.Customer.UpdateOneID(f.customer).AppendLabels([]string{"one"}).Exec(ctx)
			},
			func(tx *ent.Tx) error {
				return tx.Customer.UpdateOneID(f.customer).AppendLabels([]string{"two"}).Exec(ctx)
			},
			func() int { return len(e.client.Customer.GetX(ctx, f.customer).Labels) }, validate.MaxLabels},
	} {
		t.Run(c.what, func(t *testing.T) {
			tx1, err := e.client.Tx(ctx)
			require.NoError(t, err)
			require.NoError(t, c.first(tx1))
			second := make(chan error, 1)
			go func() {
				tx2, err := e.client.Tx(ctx)
				if err == nil {
					if err = c.second(tx2); err != nil {
						_ = tx2.Rollback()
					} else {
						err = tx2.Commit()
					}
				}
				second <- err
			}()
			time.Sleep(200 * time.Millisecond) // (the second waits for the first's row lock)
			require.NoError(t, tx1.Commit())
			err = <-second
			require.Error(t, err, "the second append passes the bound")
			require.Contains(t, err.Error(), "at most")
			require.Equal(t, c.want, c.stored())
		})
	}
}
