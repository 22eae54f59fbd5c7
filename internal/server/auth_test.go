package server_test

// The real way in: tokens from /oauth/token and OBP DirectLogin, the 401s of
// requests without (good) credentials, FORBIDDEN over HTTP, and rate limits,
// all through the router that server.go serves.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/ratelimit"
	"custgraph/internal/testdb"
)

const (
	publicURL     = "https://api.bank.test" // the configured --public-url
	partnerID     = "partner-a"
	partnerSecret = "partner-a-secret-0123456789abcdefghijklmn"
)

// authEnv is a server with authentication and a partner client bound to
// bank A holding CanGetCustomer there.
func authEnv(t *testing.T, requests int) (*env, uuid.UUID) {
	t.Helper()
	db, statements := testdb.Open(t)
	ctx := access.System(context.Background())
	bank, err := db.Client.Bank.Create().SetCode("bank.a").SetName("Bank A").Save(ctx)
	require.NoError(t, err)
	cl, _, err := admin.CreateClient(ctx, db.Client, admin.ClientInput{
		ClientID: partnerID, Name: "Partner A", Secret: partnerSecret, BankID: &bank.ID})
	require.NoError(t, err)
	_, err = admin.Grant(ctx, db.Client, &cl.ID, nil, access.CanGetCustomer, &bank.ID)
	require.NoError(t, err)
	auth, err := authn.New(ctx, db.Client, authn.Config{Hub: db.Hub, PublicURL: publicURL})
	require.NoError(t, err)
	cfg := testConfig()
	cfg.Auth = auth
	if requests > 0 {
		cfg.RateLimit, err = ratelimit.New(db, ratelimit.Config{Requests: requests, Window: time.Hour, Store: ratelimit.StoreMemory})
		require.NoError(t, err)
	}
	return serve(t, db, statements, cfg), bank.ID
}

// token gets an access token with the client-credentials grant.
func (e *env) token(t *testing.T, id, secret string) string {
	t.Helper()
	req := e.request(t, http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.SetBasicAuth(id, secret)
	r := e.do(t, req)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	require.NoError(t, json.Unmarshal(r.body, &tok))
	require.Equal(t, "Bearer", tok.TokenType)
	return tok.AccessToken
}

// as posts a GraphQL query with an Authorization header ("" for none).
func (e *env) as(t *testing.T, authorization, query string) reply {
	t.Helper()
	b, err := json.Marshal(params{Query: query})
	require.NoError(t, err)
	req := e.request(t, http.MethodPost, "/query", "application/json", strings.NewReader(string(b)))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return e.do(t, req)
}

func TestAuthenticatedGraphQL(t *testing.T) {
	e, bankID := authEnv(t, 0)
	tok := e.token(t, partnerID, partnerSecret)

	t.Run("a token lets the caller in, as itself", func(t *testing.T) {
		r := e.as(t, "Bearer "+tok, `{ viewer { kind name bankID entitlements { roleName } } customers { totalCount } }`)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.JSONEq(t, `{"data":{"viewer":{"kind":"client","name":"partner-a","bankID":"`+bankID.String()+
			`","entitlements":[{"roleName":"CanGetCustomer"}]},"customers":{"totalCount":0}}}`, string(r.body))
	})
	t.Run("no credentials: 401 with a challenge", func(t *testing.T) {
		r := e.as(t, "", `{ customers { totalCount } }`)
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Equal(t, `Bearer realm="custgraph", DirectLogin realm="custgraph"`, r.header.Get("WWW-Authenticate"))
		r.onlyError(t, "UNAUTHENTICATED")
	})
	t.Run("introspection needs no credentials", func(t *testing.T) {
		r := e.as(t, "", `{ __schema { queryType { name } } }`)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.JSONEq(t, `{"data":{"__schema":{"queryType":{"name":"Query"}}}}`, string(r.body))
	})
	t.Run("the schema's SDL needs no credentials", func(t *testing.T) {
		r := e.get(t, "/schema.graphql")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, "text/plain", r.mediaType(t))
		require.Equal(t, graph.SDL(), string(r.body))
		require.Contains(t, string(r.body), "type Customer implements Node {")
		etag := r.header.Get("ETag")
		require.NotEmpty(t, etag)
		req := e.request(t, http.MethodGet, "/schema.graphql", "", nil)
		req.Header.Set("If-None-Match", etag)
		require.Equal(t, http.StatusNotModified, e.do(t, req).status)
	})
	t.Run("a bad token: 401 invalid_token", func(t *testing.T) {
		for _, bad := range []string{"Bearer " + tok[:len(tok)-4] + "AAAA", "Bearer not.a.jwt", "DirectLogin token=\"x\""} {
			r := e.as(t, bad, `{ __typename }`)
			require.Equal(t, http.StatusUnauthorized, r.status, bad)
			require.Contains(t, r.header.Get("WWW-Authenticate"), `error="invalid_token"`, bad)
			r.onlyError(t, "UNAUTHENTICATED")
		}
	})
	t.Run("a missing role is FORBIDDEN and names it", func(t *testing.T) {
		r := e.as(t, "Bearer "+tok, `mutation { createCustomer(input: {bankID: "`+bankID.String()+`", legalName: "X"}) { id } }`)
		require.Equal(t, http.StatusOK, r.status)
		g := r.gql(t)
		require.Len(t, g.Errors, 1, "%s", r.body)
		require.Equal(t, "FORBIDDEN", g.Errors[0].Extensions["code"])
		require.Equal(t, []any{"CanCreateCustomer", "CanCreateCustomerAtAnyBank"}, g.Errors[0].Extensions["roles"])
		require.Equal(t, "bank.a", g.Errors[0].Extensions["bank"])
	})
	t.Run("the token endpoints are served", func(t *testing.T) {
		r := e.get(t, "/.well-known/jwks.json")
		require.Equal(t, http.StatusOK, r.status)
		var set struct{ Keys []map[string]any }
		require.NoError(t, json.Unmarshal(r.body, &set))
		require.Len(t, set.Keys, 1)
		require.Equal(t, "ES256", set.Keys[0]["alg"])
		for _, p := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
			// The configured URL, whatever Host and forwarded headers say.
			req := e.request(t, http.MethodGet, p, "", nil)
			req.Host = "evil.example"
			req.Header.Set("X-Forwarded-Host", "evil.example")
			req.Header.Set("X-Forwarded-Proto", "http")
			r := e.do(t, req)
			require.Equal(t, http.StatusOK, r.status, p)
			require.Contains(t, string(r.body), `"token_endpoint":"`+publicURL+`/oauth/token"`, p)
			require.Contains(t, string(r.body), `"issuer":"custgraph"`, p)
			require.NotContains(t, string(r.body), "evil.example", p)
		}
		req := e.request(t, http.MethodPost, "/my/logins/direct", "", nil)
		req.Header.Set("DirectLogin", `username="nobody", password="wrong-password", consumer_key="partner-a"`)
		r = e.do(t, req)
		require.Equal(t, http.StatusUnauthorized, r.status, "%s", r.body)
		require.JSONEq(t, `{"code":401,"message":"OBP-20004: Invalid login credentials. Check username/password."}`, string(r.body))
	})
	t.Run("a database failure while loading the caller is a 500, not a 401", func(t *testing.T) {
		// A fresh token: its caller is loaded from the database on first
		// use (a cached one is not: see internal/authn's cache tests).
		ctx := access.System(context.Background())
		_, _, err := admin.CreateClient(ctx, e.db.Client, admin.ClientInput{ClientID: "partner-late", Name: "Late", Secret: partnerSecret})
		require.NoError(t, err)
		late := e.token(t, "partner-late", partnerSecret)
		require.NoError(t, e.db.Client.Close())
		r := e.as(t, "Bearer "+late, `{ __typename }`)
		require.Equal(t, http.StatusInternalServerError, r.status, "%s", r.body)
		r.onlyError(t, "INTERNAL")
	})
}

func TestRateLimitPerCaller(t *testing.T) {
	e, _ := authEnv(t, 3)
	tok := e.token(t, partnerID, partnerSecret) // counted for this IP, not for the client
	for i := range 3 {
		r := e.as(t, "Bearer "+tok, `{ customers { totalCount } }`)
		require.Equal(t, http.StatusOK, r.status, "request %d: %s", i+1, r.body)
	}
	r := e.as(t, "Bearer "+tok, `{ customers { totalCount } }`)
	require.Equal(t, http.StatusTooManyRequests, r.status, "%s", r.body)
	require.Equal(t, "3600", r.header.Get("Retry-After"))
	// Another caller (here: anonymous, by IP, which used one request for the token) is not affected.
	r = e.as(t, "", `{ __typename }`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
}

// TestRateLimitBadCredentials: refusals count against the caller's IP, so
// a flood of bad tokens meets the limit too.
func TestRateLimitBadCredentials(t *testing.T) {
	e, _ := authEnv(t, 2)
	for i := range 2 {
		r := e.as(t, "Bearer not.a.jwt", `{ __typename }`)
		require.Equal(t, http.StatusUnauthorized, r.status, "request %d", i+1)
	}
	r := e.as(t, "Bearer not.a.jwt", `{ __typename }`)
	require.Equal(t, http.StatusTooManyRequests, r.status, "%s", r.body)
	require.NotEmpty(t, r.header.Get("Retry-After"))
}
