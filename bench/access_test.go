package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/authn"
	"custgraph/internal/demo"
	"custgraph/internal/server"
)

// BenchmarkAccess measures what authentication and the access rules cost:
// the same requests as custgraph itself (no token, no filter), with the
// administrator's token (every bank: no filter, but the caller is loaded)
// and with a partner bound to bank gh.29.uk (every query narrowed to it).
// Ratios are to the unauthenticated { __typename } of the same run.
//
//	go test ./bench/ -run '^$' -bench Access -benchtime 200x
func BenchmarkAccess(b *testing.B) {
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
	tokens := map[string]string{"system": ""}
	for name, cred := range map[string][2]string{
		"admin":   {demo.AdminClientID, demo.AdminClientSecret},
		"partner": {demo.PartnerClientID, demo.PartnerClientSecret},
	} {
		if tokens[name], err = token(h, cred[0], cred[1]); err != nil {
			b.Fatal(err)
		}
	}
	reqs := e.fixture.Requests()
	post := func(ctx context.Context, tok string, body []byte) ([]byte, error) {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return nil, fmt.Errorf("HTTP %d: %.300s", rec.Code, rec.Body.Bytes())
		}
		return rec.Body.Bytes(), QuickCheck(rec.Body.Bytes())
	}
	var baseline float64
	var sum strings.Builder
	fmt.Fprintf(&sum, "%s, access:", e.label)
	for _, scenario := range []string{Baseline, FirstPage, CustomerByID} {
		for _, caller := range []string{"system", "admin", "partner"} {
			body, tok := reqs[scenario], tokens[caller]
			rctx := context.Background()
			if caller == "system" {
				rctx = ctx
			}
			if _, err := post(rctx, tok, body); err != nil {
				b.Fatalf("%s as %s: %v", scenario, caller, err)
			}
			b.Run(scenario+"/"+caller, func(b *testing.B) {
				start, cpu := e.statements.Load(), cpuNow()
				for b.Loop() {
					if _, err := post(rctx, tok, body); err != nil {
						b.Fatal(err)
					}
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				if baseline == 0 {
					baseline = ns // Baseline as system runs first
				}
				sqlPerOp := float64(e.statements.Load()-start) / float64(b.N)
				b.ReportMetric(sqlPerOp, "sql/op")
				b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(ns/baseline, "x_baseline")
				fmt.Fprintf(&sum, "\n  %-28s %10.0f ns/op  %7.1f× baseline  %5.1f sql/op", scenario+"/"+caller, ns, ns/baseline, sqlPerOp)
			})
		}
	}
	fmt.Println(sum.String())
}

// token gets an access token from h's /oauth/token.
func token(h http.Handler, id, secret string) (string, error) {
	req := httptest.NewRequest(http.MethodPost, "/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("token for %s: HTTP %d %s", id, rec.Code, rec.Body.String())
	}
	return t.AccessToken, nil
}
