package bench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"custgraph/ent/bank"
	"custgraph/ent/customer"
	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/authn"
	"custgraph/internal/demo"
	"custgraph/internal/server"
)

// BenchmarkREST measures the REST families against GraphQL on the same
// data, as the demo partner bound to bank gh.29.uk: a first page of 20
// customers and one customer by id through each door. bankingservice.ai's
// envelope carries the count, so its page compares with GraphQL's page
// with totalCount; Tradevest's cursor page counts nothing. Ratios are to the
// partner's GraphQL { __typename } of the same run (authentication
// included in both).
//
//	go test ./bench/ -run '^$' -bench REST -benchtime 200x
func BenchmarkREST(b *testing.B) {
	e := setup(b)
	ctx := access.System(context.Background())
	auth, err := authn.New(ctx, e.db.Client, authn.Config{Hub: e.db.Hub})
	if err != nil {
		b.Fatal(err)
	}
	h := server.New(e.db, e.statements, server.Config{
		GraphQL: graph.Options{Limits: graph.DefaultLimits},
		Logger:  slog.New(slog.DiscardHandler),
		Auth:    auth,
	})
	tok, err := token(h, demo.PartnerClientID, demo.PartnerClientSecret)
	if err != nil {
		b.Fatal(err)
	}
	cu, err := e.db.Client.Customer.Query().
		Where(customer.HasBankWith(bank.Code(demo.BankCode))).Order(customer.ByCreatedAt()).First(ctx)
	if err != nil {
		b.Fatal(err)
	}
	id := cu.ID.String()
	gql := func(q string) request {
		return request{http.MethodPost, "/query", `{"query":` + fmt.Sprintf("%q", q) + `}`}
	}
	const fields = "id customerNumber legalName firstName lastName email mobilePhoneNumber customerStatus labels createdAt"
	scenarios := []struct {
		name string
		req  request
	}{
		{"baseline/graphql-typename", gql(`{ __typename }`)},
		{"first-page/graphql", gql(`{ customers(first: 20) { edges { node { ` + fields + ` } } } }`)},
		{"first-page/graphql-count", gql(`{ customers(first: 20) { totalCount edges { node { ` + fields + ` } } } }`)},
		{"first-page/bankingservice", request{http.MethodGet, "/v1/profiles/" + demo.BankCode + "/customers?page=0&size=20", ""}},
		{"first-page/tradevest", request{http.MethodGet, "/roles/customers?limit=20", ""}},
		{"by-id/graphql", gql(`{ node(id: "` + id + `") { ... on Customer { ` + fields + ` } } }`)},
		{"by-id/bankingservice", request{http.MethodGet, "/v1/profiles/" + demo.BankCode + "/customers/" + id, ""}},
		{"by-id/tradevest", request{http.MethodGet, "/roles/customers/" + id, ""}},
		{"by-id/obp", request{http.MethodGet, "/obp/v3.1.0/banks/" + demo.BankCode + "/customers/" + id, ""}},
	}
	var baseline float64
	var sum strings.Builder
	fmt.Fprintf(&sum, "%s, REST (partner token):", e.label)
	for _, s := range scenarios {
		if err := s.req.do(h, tok); err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
		b.Run(s.name, func(b *testing.B) {
			start, cpu := e.statements.Load(), cpuNow()
			for b.Loop() {
				if err := s.req.do(h, tok); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if baseline == 0 {
				baseline = ns
			}
			sqlPerOp := float64(e.statements.Load()-start) / float64(b.N)
			b.ReportMetric(sqlPerOp, "sql/op")
			b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(ns/baseline, "x_baseline")
			fmt.Fprintf(&sum, "\n  %-28s %10.0f ns/op  %7.1f× baseline  %5.1f sql/op", s.name, ns, ns/baseline, sqlPerOp)
		})
	}
	fmt.Println(sum.String())
}

// request is one HTTP request of a scenario.
type request struct{ method, path, body string }

// do sends the request through h with the token; anything but 200 fails.
func (r request) do(h http.Handler, tok string) error {
	req := httptest.NewRequest(r.method, r.path, bytes.NewReader([]byte(r.body)))
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.300s", rec.Code, rec.Body.Bytes())
	}
	if strings.Contains(rec.Body.String(), `"errors"`) {
		return fmt.Errorf("GraphQL errors: %.300s", rec.Body.Bytes())
	}
	return nil
}
