package graph_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestNodeOfABankForACallerWithoutRoles: a bank is public, so node(id:) of
// a bank answers it to a caller with no role; asking for its customers too
// is FORBIDDEN (the caller holds the role at no bank), not "no node with
// this id", which denied a bank the caller can list. A customer's id stays
// not found, as an unknown id is.
func TestNodeOfABankForACallerWithoutRoles(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	cid := e.seedCustomers(b, 1, nil)[0]
	e.viewer = access.NewViewer(access.KindUser, uuid.New(), "nobody", nil, nil)

	var r struct{ Node struct{ Code string } }
	e.do(`query($id: ID!) { node(id: $id) { ... on Bank { code } } }`, &r, "id", b.ID)
	require.Equal(t, "gh.29.uk", r.Node.Code)

	errs := e.fail(`query($id: ID!) { node(id: $id) { ... on Bank { code customers { totalCount } } } }`, "id", b.ID)
	require.Len(t, errs, 1)
	require.Equal(t, "FORBIDDEN", errs[0].Extensions["code"], "%+v", errs[0])
	errs = e.fail(`query($id: ID!) { node(id: $id) { id ... on Bank { customers { totalCount } } } }`, "id", b.ID) // the type from the table
	require.Equal(t, "FORBIDDEN", errs[0].Extensions["code"], "%+v", errs[0])

	errs = e.fail(`query($id: ID!) { node(id: $id) { ... on Customer { legalName } } }`, "id", cid)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"], "%+v", errs[0])
}
