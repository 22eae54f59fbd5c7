package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
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
