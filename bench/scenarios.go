// Package bench holds custgraph's GraphQL performance scenarios, shared by
// the in-process benchmark (bench_test.go: go test ./bench/ -run '^$' -bench .)
// and the load generator against a running server (tools/loadgen).
//
// The scenarios:
//
//   - baseline: { __typename }, the cost of the HTTP and GraphQL machinery
//     alone; the other scenarios are reported as ratios to it, measured in
//     the same run, because absolute figures vary from machine to machine;
//   - first_page: the first page of 20 customers with their products and
//     addresses and the totalCount;
//   - customer_by_id: one customer by id (node) with everything nested;
//   - deep_page: the same page as first_page, but after a cursor ~90% into
//     the list (keyset pagination should make it as cheap as the first page);
//   - first_page_no_count: first_page without totalCount and pageInfo. The
//     generated entgql Paginate counts the whole list (SELECT COUNT) when
//     either is selected, so this one tells the cost of that count from the
//     cost of the page itself.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Scenario names, in the order they run.
const (
	Baseline     = "baseline"
	FirstPage    = "first_page"
	CustomerByID = "customer_by_id"
	DeepPage     = "deep_page"
	FirstNoCount = "first_page_no_count"
)

// Names lists the scenarios in the order they run (baseline first).
var Names = []string{Baseline, FirstPage, CustomerByID, DeepPage, FirstNoCount}

// PageSize is the page size of first_page and deep_page.
const PageSize = 20

// SeedCustomerNumber is the customer customer_by_id reads when present: the
// demo data's Eveline Tripman, who has one record of every kind.
const SeedCustomerNumber = "5987953"

const baselineQuery = `{ __typename }`

// pageQuery is first_page and deep_page (with $after).
const pageQuery = `query CustomerPage($first: Int!, $after: Cursor) {
  customers(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id customerNumber legalName firstName lastName company email mobilePhoneNumber
        customerStatus customerType kycStatus labels createdAt
        products {
          edges { node { id productCode productType status currency iban openedOn closedOn } }
        }
        addresses {
          edges { node { id line1 line2 city postcode state countryCode tags isPrimary } }
        }
      }
    }
  }
}`

// noCountQuery is pageQuery without totalCount and pageInfo.
var noCountQuery = strings.NewReplacer(
	"    totalCount\n", "",
	"    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n", "",
	"CustomerPage", "CustomerPageNoCount",
).Replace(pageQuery)

const customerQuery = `query CustomerByID($id: ID!) {
  node(id: $id) {
    ... on Customer {
      id createdAt updatedAt bankID customerNumber legalName firstName lastName company email
      mobilePhoneNumber faceImageURL faceImageDate dateOfBirth relationshipStatus dependants
      dobOfDependants creditRating creditSource creditLimitCurrency creditLimitAmount
      highestEducationAttained employmentStatus kycStatus lastOkDate title branchID nameSuffix
      entityID entityType customerStatus customerType labels
      bank { id code name }
      products { totalCount edges { node { id productCode productType currency status proxyIds iban openedOn closedOn } } }
      addresses { totalCount edges { node { id line1 line2 line3 city county state postcode countryCode tags status
        premise subPremise building thoroughfare isPrimary } } }
      taxResidences { edges { node { id domain taxNumber } } }
      socialHandles { edges { node { id type handle dateAdded dateActivated } } }
      attributes { edges { node { id name type value } } }
      messages { edges { node { id message transport fromDepartment fromPerson createdAt } } }
      userLinks { edges { node { id isActive bankID user { id username email displayName } } } }
      crmEvents { edges { node { id category detail channel scheduledDate actualDate result } } }
    }
  }
}`

// Request is a GraphQL request body.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
}

// Body encodes the request as JSON.
func (r Request) Body() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // only plain values
	}
	return b
}

// Poster sends one GraphQL request body and returns the response body; an
// HTTP status other than 200 is an error.
type Poster func(ctx context.Context, body []byte) ([]byte, error)

// Fixture is what the scenarios need from the data set: a customer id and a
// cursor deep into the customer list.
type Fixture struct {
	CustomerID  string
	DeepCursor  string
	DeepOffset  int // rows before DeepCursor's successor
	TotalCount  int
	WalkedPages int
}

// Requests returns the request body of each scenario.
func (f *Fixture) Requests() map[string][]byte {
	return map[string][]byte{
		Baseline:     Request{Query: baselineQuery}.Body(),
		FirstPage:    Request{Query: pageQuery, Variables: map[string]any{"first": PageSize}}.Body(),
		CustomerByID: Request{Query: customerQuery, Variables: map[string]any{"id": f.CustomerID}}.Body(),
		DeepPage:     Request{Query: pageQuery, Variables: map[string]any{"first": PageSize, "after": f.DeepCursor}}.Body(),
		FirstNoCount: Request{Query: noCountQuery, Variables: map[string]any{"first": PageSize}}.Body(),
	}
}

// Response is a GraphQL response.
type Response struct {
	Data   json.RawMessage  `json:"data"`
	Errors []map[string]any `json:"errors"`
}

// Check reports an error when the response is not JSON, has errors or no data.
func Check(body []byte) (*Response, error) {
	var r Response
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("response is not JSON: %w: %.200s", err, body)
	}
	if len(r.Errors) > 0 {
		return nil, fmt.Errorf("response has errors: %.500s", body)
	}
	if len(r.Data) == 0 || bytes.Equal(r.Data, []byte("null")) {
		return nil, fmt.Errorf("response has no data: %.200s", body)
	}
	return &r, nil
}

// QuickCheck is the per-request check of the measuring loops: cheaper than
// Check (no decoding), it catches any GraphQL error.
func QuickCheck(body []byte) error {
	if bytes.Contains(body, []byte(`"errors"`)) || !bytes.HasPrefix(bytes.TrimSpace(body), []byte(`{"data"`)) {
		return fmt.Errorf("response has errors or no data: %.500s", body)
	}
	return nil
}

// Prepare finds the fixture through the API, as a client would: the seed
// customer (or the first one) and a cursor at fraction (0..1) of the list,
// reached by walking it 100 rows at a time.
func Prepare(ctx context.Context, post Poster, fraction float64) (*Fixture, error) {
	f, err := FindCustomer(ctx, post)
	if err != nil {
		return nil, err
	}
	return f, f.Walk(ctx, post, fraction)
}

// FindCustomer returns a fixture with CustomerID (the seed customer, or the
// first one) and TotalCount set.
func FindCustomer(ctx context.Context, post Poster) (*Fixture, error) {
	var f Fixture
	find := Request{Query: `query($n: String!) {
	  seed: customers(first: 1, where: {customerNumber: $n}) { edges { node { id } } }
	  any: customers(first: 1) { totalCount edges { node { id } } }
	}`, Variables: map[string]any{"n": SeedCustomerNumber}}
	var found struct {
		Seed, Any struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	if err := call(ctx, post, find, &found); err != nil {
		return nil, err
	}
	f.TotalCount = found.Any.TotalCount
	switch {
	case len(found.Seed.Edges) > 0:
		f.CustomerID = found.Seed.Edges[0].Node.ID
	case len(found.Any.Edges) > 0:
		f.CustomerID = found.Any.Edges[0].Node.ID
	default:
		return nil, errors.New("the database has no customers: load data first (go run . demo)")
	}
	return &f, nil
}

// Walk sets DeepCursor to the cursor of the row at fraction (0..1) of the
// customer list (leaving at least a full page after it), walking the list
// 100 rows at a time from the start.
func (f *Fixture) Walk(ctx context.Context, post Poster, fraction float64) error {
	const step = 100
	target := int(float64(f.TotalCount) * fraction)
	target = min(target, f.TotalCount-PageSize)
	// Only the edges' cursors: selecting pageInfo (or totalCount) would
	// make entgql count the whole list on every page, and selecting pageInfo
	// without edges gives endCursor null.
	walk := Request{Query: `query($after: Cursor) {
	  customers(first: 100, after: $after) { edges { cursor } }
	}`}
	var after any
	f.DeepOffset, f.WalkedPages, f.DeepCursor = 0, 0, ""
	for f.DeepOffset+step <= target {
		walk.Variables = map[string]any{"after": after}
		var page struct {
			Customers struct{ Edges []struct{ Cursor string } }
		}
		if err := call(ctx, post, walk, &page); err != nil {
			return fmt.Errorf("walking the customer list at row %d: %w", f.DeepOffset, err)
		}
		edges := page.Customers.Edges
		if len(edges) == 0 || edges[len(edges)-1].Cursor == "" {
			return fmt.Errorf("walking the customer list at row %d: no cursor", f.DeepOffset)
		}
		f.WalkedPages++
		f.DeepOffset += len(edges)
		f.DeepCursor = edges[len(edges)-1].Cursor
		after = f.DeepCursor
		if len(edges) < step {
			break
		}
	}
	if f.DeepCursor == "" {
		return fmt.Errorf("only %d customers: too few for a deep page", f.TotalCount)
	}
	return nil
}

// CursorOf returns the cursor of customer id in the default order of the
// customer list: the same cursor a walk to that row would end with, without
// the walk.
func CursorOf(ctx context.Context, post Poster, id string) (string, error) {
	req := Request{Query: `query($id: ID!) { customers(first: 1, where: {id: $id}) { edges { cursor } } }`,
		Variables: map[string]any{"id": id}}
	var page struct {
		Customers struct{ Edges []struct{ Cursor string } }
	}
	if err := call(ctx, post, req, &page); err != nil {
		return "", err
	}
	if len(page.Customers.Edges) != 1 || page.Customers.Edges[0].Cursor == "" {
		return "", fmt.Errorf("customer %s not found", id)
	}
	return page.Customers.Edges[0].Cursor, nil
}

func call(ctx context.Context, post Poster, req Request, data any) error {
	body, err := post(ctx, req.Body())
	if err != nil {
		return err
	}
	r, err := Check(body)
	if err != nil {
		return err
	}
	return json.Unmarshal(r.Data, data)
}
