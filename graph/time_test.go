package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestTimesWithAnOffset: a Time given with an offset is the same instant
// as in UTC, in what is stored, in filters, in orders and in cursor pages,
// on both databases. SQLite compares times as text, and gqlgen's scalar
// kept the offset: ordered by lastOkDate the four customers below came out
// B, A, D, C, a filter at exactly B's instant missed it, and paging one at
// a time skipped A.
func TestTimesWithAnOffset(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	given := []struct{ name, at string }{ // in time order: 10:00Z, 11:00Z, 12:00Z, 13:00:00.5Z
		{"TzA", "2030-06-01T10:00:00Z"},
		{"TzB", "2030-06-01T00:00:00-11:00"},
		{"TzC", "2030-06-02T02:00:00+14:00"},
		{"TzD", "2030-06-01T13:00:00.5Z"},
	}
	for _, g := range given {
		var r struct{ CreateCustomer struct{ LastOkDate string } }
		e.do(`mutation($b: ID!, $n: String, $t: Time) { createCustomer(input: {bankID: $b, firstName: "Tz", lastName: $n, lastOkDate: $t}) { lastOkDate } }`,
			&r, "b", b.ID, "n", g.name, "t", g.at)
		want, err := time.Parse(time.RFC3339Nano, g.at)
		require.NoError(t, err)
		require.Equal(t, want.UTC().Format(time.RFC3339Nano), r.CreateCustomer.LastOkDate, g.name)
	}
	names := func(q string, kv ...any) (got []string, end string, next bool) {
		var r struct {
			Customers struct {
				Edges    []struct{ Node struct{ LastName string } }
				PageInfo struct {
					EndCursor   string
					HasNextPage bool
				}
			}
		}
		e.do(q, &r, kv...)
		for _, n := range r.Customers.Edges {
			got = append(got, n.Node.LastName)
		}
		return got, r.Customers.PageInfo.EndCursor, r.Customers.PageInfo.HasNextPage
	}
	const list = `customers(first: $n, after: $c, where: {lastNameHasPrefix: "Tz"}, orderBy: [{field: LAST_OK_DATE}])`
	all, _, _ := names(`query($n: Int, $c: Cursor) { `+list+` { edges { node { lastName } } pageInfo { endCursor hasNextPage } } }`, "n", 10, "c", nil)
	require.Equal(t, []string{"TzA", "TzB", "TzC", "TzD"}, all)
	var paged []string
	var cursor any
	for {
		got, end, next := names(`query($n: Int, $c: Cursor) { `+list+` { edges { node { lastName } } pageInfo { endCursor hasNextPage } } }`, "n", 1, "c", cursor)
		paged = append(paged, got...)
		if !next {
			break
		}
		cursor = end
	}
	require.Equal(t, all, paged, "paging one at a time")
	for _, c := range []struct {
		where string
		want  []string
	}{
		{`lastOkDate: "2030-06-01T11:00:00Z"`, []string{"TzB"}},
		{`lastOkDateGTE: "2030-06-01T11:00:00Z"`, []string{"TzB", "TzC", "TzD"}},
		{`lastOkDateLT: "2030-06-01T22:00:00+10:00"`, []string{"TzA", "TzB"}}, // 12:00Z
	} {
		got, _, _ := names(`{ customers(where: {lastNameHasPrefix: "Tz", ` + c.where + `}, orderBy: [{field: LAST_OK_DATE}]) { edges { node { lastName } } pageInfo { endCursor hasNextPage } } }`)
		require.Equal(t, c.want, got, c.where)
	}
}

// TestEmptyTimeIsRefused: "" and the zero time are not times. gqlgen's
// scalar read both as the zero time: an update with dateOfBirth: "" erased
// the stored date (the answer read null, dateOfBirthNotNil still matched),
// and createdAtGT: "" matched every customer. Now each is BAD_USER_INPUT
// naming the input, and nothing is written.
func TestEmptyTimeIsRefused(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	var r struct{ CreateCustomer struct{ ID string } }
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, firstName: "S", lastName: "T", dateOfBirth: "2000-05-05T00:00:00Z"}) { id } }`, &r, "b", b.ID)
	id := r.CreateCustomer.ID
	for _, c := range []struct{ name, query, field string }{
		{"an empty update", `mutation($id: ID!) { updateCustomer(id: $id, input: {dateOfBirth: ""}) { id } }`, "dateOfBirth"},
		{"the zero time", `mutation($id: ID!) { updateCustomer(id: $id, input: {dateOfBirth: "0001-01-01T00:00:00Z"}) { id } }`, "dateOfBirth"},
		{"the zero time with an offset", `mutation($id: ID!) { updateCustomer(id: $id, input: {lastOkDate: "0000-12-31T23:00:00-01:00"}) { id } }`, "lastOkDate"},
		{"an empty filter value", `query($id: ID!) { customers(where: {id: $id, createdAtGT: ""}) { totalCount } }`, "createdAtGT"},
		{"a number", `query($id: ID!) { customers(where: {id: $id, createdAtGT: 5}) { totalCount } }`, "createdAtGT"},
	} {
		errs := e.fail(c.query, "id", id)
		require.Len(t, errs, 1, c.name)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", c.name, errs[0])
		require.Equal(t, c.field, errs[0].Extensions["field"], "%s: %+v", c.name, errs[0])
		require.Contains(t, errs[0].Message, "RFC 3339", "%s: %+v", c.name, errs[0])
	}
	var got struct {
		Node struct{ DateOfBirth *string }
	}
	e.do(`query($id: ID!) { node(id: $id) { ... on Customer { dateOfBirth } } }`, &got, "id", id)
	require.NotNil(t, got.Node.DateOfBirth)
	require.Equal(t, "2000-05-05T00:00:00Z", *got.Node.DateOfBirth)
}

// TestTimesBothDatabasesStore: a Time is refused unless its year in UTC is
// 0001 to 9999 and its offset within ±23:59 (RFC 3339), and is kept to the
// microsecond. SQLite stored 9999-12-31T23:59:59-01:00 as year 10000 and
// then failed every read of the customer (and every list over it);
// PostgreSQL stored it and answered a time the API refuses as input; and
// a nanosecond was kept on SQLite, cut on PostgreSQL (1 ns after the zero
// time read back as no value there).
func TestTimesBothDatabasesStore(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	sys := access.System(context.Background())
	for _, c := range []struct{ name, input, field string }{
		{"year 10000 in UTC", `dateOfBirth: "9999-12-31T23:59:59-01:00"`, "dateOfBirth"},
		{"year -1 in UTC", `lastOkDate: "0000-01-01T00:00:00+01:00"`, "lastOkDate"},
		{"an offset of 24 hours", `lastOkDate: "2030-01-01T00:00:00+24:00"`, "lastOkDate"},
		{"a dependant born in year 10000", `dependants: 1, dobOfDependants: ["9999-12-31T23:59:59-01:00"]`, "dobOfDependants"},
		{"a nanosecond after the zero time", `dateOfBirth: "0001-01-01T00:00:00.000000001Z"`, "dateOfBirth"},
	} {
		errs := e.fail(`mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Out of range", `+c.input+`}) { id } }`, "b", b.ID)
		require.Len(t, errs, 1, c.name)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", c.name, errs[0])
		require.Contains(t, []any{c.field, "date_of_birth"}, errs[0].Extensions["field"], "%s: %+v", c.name, errs[0])
	}
	errs := e.fail(`{ customers(where: {createdAtGT: "9999-12-31T23:59:59-01:00"}) { totalCount } }`)
	require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%+v", errs[0])
	require.Zero(t, e.client.Customer.Query().CountX(sys), "nothing written")

	// Kept to the microsecond: the answer, a read and both databases agree.
	var r struct {
		CreateCustomer struct {
			ID              string
			DateOfBirth     string
			DobOfDependants []string
		}
	}
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Precise", dateOfBirth: "9999-12-31T23:59:59.999999999Z", dependants: 1, dobOfDependants: ["2001-02-03T04:05:06.123456789+01:00"]}) { id dateOfBirth dobOfDependants } }`, &r, "b", b.ID)
	require.Equal(t, "9999-12-31T23:59:59.999999Z", r.CreateCustomer.DateOfBirth)
	require.Equal(t, []string{"2001-02-03T03:05:06.123456Z"}, r.CreateCustomer.DobOfDependants)
	var got struct {
		Node struct {
			DateOfBirth     string
			DobOfDependants []string
		}
	}
	e.do(`query($id: ID!) { node(id: $id) { ... on Customer { dateOfBirth dobOfDependants } } }`, &got, "id", r.CreateCustomer.ID)
	require.Equal(t, r.CreateCustomer.DateOfBirth, got.Node.DateOfBirth)
	require.Equal(t, r.CreateCustomer.DobOfDependants, got.Node.DobOfDependants)

	// The storage rule holds below GraphQL too (the REST doors write through ent).
	_, err := e.client.Customer.Create().SetBankID(b.ID).SetLegalName("Direct").
		SetDateOfBirth(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)).Save(sys)
	require.ErrorContains(t, err, "0001-01-01T00:00:00Z and 9999-12-31")

	// Dates of birth of dependants are bounded on every path, an append included.
	var many []string
	for i := range 101 {
		many = append(many, time.Date(2000, 1, 1+i%28, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
	}
	errs = e.fail(`mutation($id: ID!, $d: [Time!]) { updateCustomer(id: $id, input: {appendDobOfDependants: $d}) { dependants } }`, "id", r.CreateCustomer.ID, "d", many)
	require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%+v", errs[0])
	require.Contains(t, errs[0].Message, "at most 100")
	var u struct {
		UpdateCustomer struct{ DobOfDependants []string }
	}
	many[98] = "2003-04-05T06:07:08.1234567+02:00" // cut to the microsecond as a set value is
	e.do(`mutation($id: ID!, $d: [Time!]) { updateCustomer(id: $id, input: {appendDobOfDependants: $d}) { dobOfDependants } }`, &u, "id", r.CreateCustomer.ID, "d", many[:99])
	require.Len(t, u.UpdateCustomer.DobOfDependants, 100)
	require.Equal(t, "2003-04-05T04:07:08.123456Z", u.UpdateCustomer.DobOfDependants[99])
}
