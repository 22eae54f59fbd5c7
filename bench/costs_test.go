package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"

	"custgraph/graph"
	"custgraph/internal/access"
)

// BenchmarkCosts measures the worst request each of the limits accepts
// (graph.DefaultLimits; README, "Limits and the cost model"), and what the
// refusal of the worst attacks of issue 12 costs, each as a ratio to
// { __typename } measured in the same run, on the benchmark data set (see
// bench_test.go), as custgraph itself (every bank: no access filter).
//
//	go test ./bench/ -run '^$' -bench Costs -benchtime 5x
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	    go test ./bench/ -run '^$' -bench Costs -benchtime 5x
//
// Besides ns/op and x_baseline it reports sql/op (statements) and B/answer
// (bytes answered); internal/server/costs_test.go asserts the refusals and
// their work.
func BenchmarkCosts(b *testing.B) {
	e := setup(b)
	ctx := access.System(context.Background())
	ids, err := e.customerIDs(ctx, graph.MaxPageSize)
	if err != nil {
		b.Fatal(err)
	}
	cases := costCases(ids)
	for _, c := range cases { // each is checked once before it is timed
		status, resp := e.postRaw(ctx, c.body)
		if err := c.check(status, resp); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
	}
	// The costliest cases run a few times only (-benchtime 3x): the
	// baseline of the ratios is measured on its own, over many requests.
	baseline := measure(b, e, Request{Query: baselineQuery}.Body(), 2000)
	var sum strings.Builder
	fmt.Fprintf(&sum, "%s, the worst request each limit accepts, and refusals:", e.label)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			start := e.statements.Load()
			var answer int
			for b.Loop() {
				status, resp := e.postRaw(ctx, c.body)
				if err := c.check(status, resp); err != nil {
					b.Fatal(err)
				}
				answer = len(resp)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			sqlPerOp := float64(e.statements.Load()-start) / float64(b.N)
			b.ReportMetric(sqlPerOp, "sql/op")
			b.ReportMetric(float64(answer), "B/answer")
			b.ReportMetric(ns/baseline, "x_baseline")
			fmt.Fprintf(&sum, "\n  %-34s %13.0f ns/op  %9.1f× baseline  %5.1f sql/op  %9d B answered",
				c.name, ns, ns/baseline, sqlPerOp, answer)
		})
	}
	fmt.Println(sum.String())
}

// costCase is one request of BenchmarkCosts and what its answer must be.
type costCase struct {
	name string
	body []byte
	code string // the refusal's code; "" for an accepted request
}

func (c costCase) check(status int, resp []byte) error {
	if c.code == "" {
		if status != http.StatusOK {
			return fmt.Errorf("HTTP %d: %.300s", status, resp)
		}
		return QuickCheck(resp)
	}
	// A limit's refusal and a validation error are request errors: 200 as
	// application/json (GraphQL over HTTP), without data.
	if status >= 500 || bytes.Contains(resp, []byte(`"data"`)) || !bytes.Contains(resp, []byte(`"code":"`+c.code+`"`)) {
		return fmt.Errorf("want a refusal %s, got HTTP %d: %.300s", c.code, status, resp)
	}
	return nil
}

// customerIDs returns the ids of the first n customers.
func (e *env) customerIDs(ctx context.Context, n int) ([]string, error) {
	rows, err := e.db.SQL.QueryContext(ctx, fmt.Sprintf("SELECT id FROM customers ORDER BY created_at, id LIMIT %d", n))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// postRaw sends one request through the real HTTP handler, in process,
// and returns the status and the body whatever they are.
func (e *env) postRaw(ctx context.Context, body []byte) (int, []byte) {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// Scalar fields of the types the document case selects.
const (
	customerFields = "id createdAt updatedAt bankID customerNumber legalName firstName lastName company email " +
		"mobilePhoneNumber faceImageURL faceImageDate dateOfBirth relationshipStatus dependants dobOfDependants " +
		"creditRating creditSource creditLimitCurrency creditLimitAmount highestEducationAttained employmentStatus " +
		"kycStatus lastOkDate title branchID nameSuffix entityID entityType customerStatus customerType labels"
	productFields = "id createdAt updatedAt customerID productCode productType currency status proxyIds iban openedOn closedOn"
	addressFields = "id createdAt updatedAt customerID line1 line2 line3 city county state postcode countryCode tags status " +
		"premise subPremise building thoroughfare isPrimary"
	bankFields = "id createdAt updatedAt code name"
)

// costCases are the requests of BenchmarkCosts: the baseline, the worst
// request each limit accepts, and the refusals of issue 12's attacks.
func costCases(ids []string) []costCase {
	l := graph.DefaultLimits
	times := func(fields string, n int) string { return strings.TrimSpace(strings.Repeat(" "+fields, n)) }
	rep := min(l.MaxRepeats, l.MaxFields/100)

	// The largest document: every field of a customer, its first product
	// and address and its bank, each repeated as often as MaxFields allows
	// (validation compares the repeats pairwise), within MaxTokens.
	document := fmt.Sprintf(`{ customers(first: 1) { %s edges { %s node { %s %s
		products(first: 1) { edges { node { %s %s } } }
		addresses(first: 1) { edges { node { %s %s } } }
		bank { %s %s } } } } }`,
		times("__typename", rep), times("__typename", rep), times(customerFields, rep), times("__typename", rep),
		times(productFields, rep), times("__typename", rep), times(addressFields, rep), times("__typename", rep),
		times(bankFields, rep), times("__typename", rep))

	// The most repeats: 19 fields of a customer each MaxRepeats times
	// (950 fields; validation compares each one's repeats pairwise).
	var repeats strings.Builder
	repeats.WriteString("{ customers(first: 1) { edges { node {")
	for _, f := range strings.Fields(customerFields)[:19] {
		repeats.WriteString(strings.Repeat(" "+f, l.MaxRepeats))
	}
	repeats.WriteString(" } } } }")

	// The most complex accepted page: 100 customers with 95 products each
	// (within MaxComplexity: 1 + 100 × 6 + 9,500 × 5 = 48,101).
	complexity := `{ customers(first: 100) { edges { node { id legalName email
		products(first: 95) { edges { node { id productCode status } } } } } } }`

	// nodes(ids:) at its largest: 100 customers' ids, four times, with a
	// page of products: 4 × 100 × (… + 20 × 4) ≤ 50,000.
	nodes := `query($ids: [ID!]!) {
		a: nodes(ids: $ids) { ...C } b: nodes(ids: $ids) { ...C } c: nodes(ids: $ids) { ...C } d: nodes(ids: $ids) { ...C } }
	fragment C on Customer { id legalName email products(first: 20) { edges { node { id productCode } } } }`
	// The same through a fragment on Node (field collection sees through it:
	// the products of all the ids in one query).
	nodesNode := strings.Replace(nodes, "fragment C on Customer { id legalName email products(first: 20) { edges { node { id productCode } } } }",
		"fragment C on Node { ... on Customer { id legalName email products(first: 20) { edges { node { id productCode } } } } }", 1)

	// The costliest filter within MaxFilterCost: five searches (6 each: six
	// substring matches, no index) over every customer, counted and paged.
	searches := make([]string, l.MaxFilterCost/6)
	for i := range searches {
		searches[i] = fmt.Sprintf(`{search: "zz%dq"}`, i)
	}
	search := `{ customers(first: 20, where: {or: [` + strings.Join(searches, ", ") + `]}) { totalCount edges { node { id } } } }`
	// The costliest traversals: one with four predicates inside,
	// 5 × (1 + 4) = 25, and two nested, 5 × (1 + 5) = 30.
	traversal := `{ customers(first: 20, where: {hasProductsWith: [{ibanContainsFold: "zzq", statusIn: [ACTIVE, CLOSED], productCode: WALLET}]}) { totalCount edges { node { id } } } }`
	traversal2 := `{ customers(first: 20, where: {hasProductsWith: [{hasCustomer: true}]}) { totalCount edges { node { id } } } }`

	// The largest filter variable within the filter cost (30): 29 filters
	// in an or, each costing coercion 223 (the object, its value and the
	// 221 fields of CustomerWhereInput): 6,690 of MaxVariableCost.
	or := make([]any, 29)
	for i := range or {
		or[i] = map[string]any{"customerNumber": fmt.Sprint(i)}
	}
	variables := Request{Query: `query($w: CustomerWhereInput) { customers(first: 20, where: $w) { edges { node { id } } } }`,
		Variables: map[string]any{"w": map[string]any{"or": or}}}.Body()

	// Introspection at its budget: the full query and its types once more.
	intro := strings.Replace(introspection.Query, "types {", "a: types { ...FullType } types {", 1)

	// Errors: 900 unknown directives (1,800 tokens), 20 answered.
	var directives strings.Builder
	for i := range 900 {
		fmt.Fprintf(&directives, " @d%d", i)
	}

	// The attacks, refused.
	orAttack := make([]any, 10_000)
	for i := range orAttack {
		orAttack[i] = map[string]any{"search": fmt.Sprint("term ", i)}
	}
	var notAttack any = map[string]any{"legalName": "x"}
	for range 5000 {
		notAttack = map[string]any{"not": notAttack}
	}
	nest := `{legalNameContains: "a"}`
	for i := range 4 {
		if i%2 == 0 {
			nest = `{hasCustomerWith: [` + nest + `]}`
		} else {
			nest = `{hasProductsWith: [` + nest + `]}`
		}
	}
	nodesAttack := "query($ids: [ID!]!) {"
	for i := range 30 {
		nodesAttack += fmt.Sprintf(" n%d: nodes(ids: $ids) { ... on Customer { id products(first: 100) { edges { node { id iban } } } } }", i)
	}

	q := func(query string) []byte { return Request{Query: query}.Body() }
	return []costCase{
		{name: Baseline, body: q(baselineQuery)},
		{name: "accepted/document", body: q(document)},
		{name: "accepted/repeats", body: q(repeats.String())},
		{name: "accepted/complexity", body: q(complexity)},
		{name: "accepted/nodes", body: Request{Query: nodes, Variables: map[string]any{"ids": ids}}.Body()},
		{name: "accepted/nodes_fragment_on_Node", body: Request{Query: nodesNode, Variables: map[string]any{"ids": ids}}.Body()},
		{name: "accepted/filter_search", body: q(search)},
		{name: "accepted/filter_traversal", body: q(traversal)},
		{name: "accepted/filter_traversal_nested", body: q(traversal2)},
		{name: "accepted/variables", body: variables},
		{name: "accepted/introspection", body: q(intro)},
		{name: "refused/errors_900_directives", body: q("{ __typename" + directives.String() + " }"), code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "refused/tokens_1MiB", body: q("{" + strings.Repeat(" __typename", 95_000) + " }"), code: "TOO_MANY_TOKENS"},
		{name: "refused/repeats_1500", body: q("{" + strings.Repeat(" __typename", 1500) + " }"), code: "FIELD_REPEATED"},
		{name: "refused/filter_or_10000_search", code: "VARIABLES_TOO_LARGE", body: Request{
			Query:     `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`,
			Variables: map[string]any{"w": map[string]any{"or": orAttack}}}.Body()},
		{name: "refused/filter_not_5000_deep", code: "VARIABLES_TOO_LARGE", body: Request{
			Query:     `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`,
			Variables: map[string]any{"w": notAttack}}.Body()},
		{name: "refused/filter_traversals_4_deep", code: "FILTER_TOO_COMPLEX",
			body: q(`{ customers(first: 5, where: ` + nest + `) { totalCount } }`)},
		{name: "refused/nodes_30x100", code: "COMPLEXITY_LIMIT_EXCEEDED",
			body: Request{Query: nodesAttack + " }", Variables: map[string]any{"ids": ids}}.Body()},
	}
}
