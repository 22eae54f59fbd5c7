package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
)

// TestNegatedFiltersKeepNulls: `not` of the search and label filters keeps
// the customers the filter does not match, those whose names or labels are
// NULL included; a filter or its negation matches every customer. Before,
// NULL LIKE x and NULL @> x were NULL, and NOT NULL is NULL: `not: {search:
// "zzzz"}` matched no customer at all, and `not: {hasLabel: "vip"}` none
// without labels on PostgreSQL.
func TestNegatedFiltersKeepNulls(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	labels := [][]string{{"vip"}, {"vip", "gold"}, {"other"}, {}, nil, nil}
	ids := e.seedCustomers(b, len(labels), func(i int, c *ent.CustomerCreate) {
		if labels[i] != nil {
			c.SetLabels(labels[i])
		}
	})
	for i, l := range labels { // NULL labels, as a raw write or an older version leaves them
		if l == nil {
			_, err := e.db.SQL.Exec(`UPDATE customers SET labels = NULL WHERE id = $1`, ids[i])
			require.NoError(t, err)
		}
	}
	var nulls int
	require.NoError(t, e.db.SQL.QueryRow(`SELECT COUNT(*) FROM customers WHERE labels IS NULL`).Scan(&nulls))
	require.Equal(t, 2, nulls)
	require.NoError(t, e.db.SQL.QueryRow(`SELECT COUNT(*) FROM customers WHERE company IS NULL`).Scan(&nulls))
	require.Equal(t, len(labels), nulls, "names that are NULL")

	all := len(labels)
	for _, c := range []struct {
		where string
		want  int
	}{
		{`{search: "zzzz"}`, 0},
		{`{not: {search: "zzzz"}}`, all},
		{`{search: "customer 00"}`, all},
		{`{not: {search: "customer 001"}}`, all - 1},
		{`{hasLabel: "vip"}`, 2},
		{`{not: {hasLabel: "vip"}}`, all - 2},
		{`{or: [{hasLabel: "vip"}, {not: {hasLabel: "vip"}}]}`, all},
		{`{not: {hasAnyLabel: ["gold", "other"]}}`, all - 2},
		{`{not: {hasAllLabels: ["vip", "gold"]}}`, all - 1},
	} {
		var r struct {
			Customers struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		e.do(`{ customers(where: `+c.where+`) { totalCount edges { node { id } } } }`, &r)
		require.Equal(t, c.want, r.Customers.TotalCount, c.where)
		require.Len(t, r.Customers.Edges, c.want, c.where)
	}
}

// TestEmptyNestedFilter: a filter object with no condition inside not, or,
// and or has…With, on root lists and nested ones, is
// BAD_USER_INPUT naming where, for any caller. It was INTERNAL (and an
// ERROR line in the log) for every caller. An empty where at the top still
// filters nothing.
func TestEmptyNestedFilter(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	e.seedCustomers(b, 2, nil)
	for _, q := range []string{
		`{ customers(where: {not: {}}) { totalCount } }`,
		`{ customers(where: {or: [{}]}) { totalCount } }`,
		`{ customers(where: {or: [{hasLabel: "vip"}, {}]}) { totalCount } }`,
		`{ customers(where: {and: [{}, {}]}) { totalCount } }`,
		`{ customers(where: {hasProductsWith: [{}]}) { totalCount } }`,
		`{ customers(where: {not: {not: {}}}) { totalCount } }`,
		`{ customers(first: 1) { edges { node { products(where: {not: {}}) { totalCount } } } } }`,
		`{ customers(first: 1) { edges { node { addresses(where: {or: [{}]}) { totalCount } } } } }`,
		`{ products(where: {not: {}}) { totalCount } }`,
	} {
		errs := e.fail(q)
		require.Len(t, errs, 1, q)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", q, errs[0])
		require.Equal(t, "where", errs[0].Extensions["field"], "%s: %+v", q, errs[0])
	}
	var r struct{ Customers struct{ TotalCount int } }
	e.do(`{ customers(where: {}) { totalCount } }`, &r)
	require.Equal(t, 2, r.Customers.TotalCount)
}
