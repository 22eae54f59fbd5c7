package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPercentEncodedPathIsThePlainPath: a path segment with characters
// encoded that need no encoding (gh%2E29%2Euk, a customer id with %2D for
// its dashes) names the same resource as the plain one (RFC 3986 6.2.2.2),
// in every family. chi routed such a path by its raw text, and the
// handlers were given "gh%2E29%2Euk": 404. An encoded "/" stays one
// segment, which names nothing.
func TestPercentEncodedPathIsThePlainPath(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	data := e.gql(t, tok, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Encoded Path"}) { id } }`,
		map[string]any{"b": e.A.ID})
	var c struct{ ID string }
	require.NoError(t, json.Unmarshal(data["createCustomer"], &c))
	bank := strings.ReplaceAll(bankA, ".", "%2E")
	id := strings.ReplaceAll(c.ID, "-", "%2D")

	for _, tc := range []struct{ plain, encoded string }{
		{"/v1/profiles/" + bankA + "/customers/" + c.ID, "/v1/profiles/" + bank + "/customers/" + id},
		{"/v1/profiles/" + bankA + "/customers", "/v1/profiles/" + bank + "/customers"},
		{"/obp/v3.1.0/banks/" + bankA + "/customers/" + c.ID, "/obp/v3.1.0/banks/" + bank + "/customers/" + id},
		{"/roles/customers/" + c.ID, "/roles/customers/" + id},
		{"/customers/" + c.ID + "/products", "/customers/" + id + "/products"},
	} {
		plain := e.call(t, http.MethodGet, tc.plain, tok, nil)
		require.Equal(t, http.StatusOK, plain.status, "%s: %s", tc.plain, plain.body)
		encoded := e.call(t, http.MethodGet, tc.encoded, tok, nil)
		require.Equal(t, http.StatusOK, encoded.status, "%s: %s", tc.encoded, encoded.body)
		require.JSONEq(t, string(plain.body), string(encoded.body), tc.encoded)
	}

	slash := e.call(t, http.MethodGet, "/v1/profiles/"+bankA+"%2Fx/customers", tok, nil)
	require.Equal(t, http.StatusNotFound, slash.status, "%s", slash.body)
	// A NUL is no bank's: 404 (PostgreSQL refused it in the lookup, a 400).
	nul := e.call(t, http.MethodGet, "/obp/v3.1.0/banks/"+bankA+"%00/customers/"+c.ID, tok, nil)
	require.Equal(t, http.StatusNotFound, nul.status, "%s", nul.body)
	nul = e.call(t, http.MethodGet, "/v1/profiles/"+bankA+"%00/customers", tok, nil)
	require.Equal(t, http.StatusNotFound, nul.status, "%s", nul.body)
}

// TestIdempotencyKeyNamesTheRoutedPath: a request replayed by its
// Idempotency-Key is the same request only at the same routed path: a path
// with an encoded "/" names nothing, and the key's earlier answer at the
// plain path is not replayed for it (it was: the key named the decoded
// path); the key is another request's (422, checked before the route).
func TestIdempotencyKeyNamesTheRoutedPath(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	key := "encoded-path-key"
	first := e.call(t, http.MethodPost, "/obp/v5.1.0/banks/"+bankA+"/customers", tok, obpCustSeedBody(), "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, first.status, "%s", first.body)
	b, err := json.Marshal(obpCustSeedBody())
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/obp/v5.1.0/banks/"+bankA+"%2Fcustomers", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", tok)
	req.Header.Set("Idempotency-Key", key)
	again := roundTrip(t, req) // (no route: the OpenAPI document has no answer for it to check)
	require.Equal(t, http.StatusUnprocessableEntity, again.status, "%s", again.body)
	require.Contains(t, string(again.body), "IDEMPOTENCY_KEY_REUSED")
	require.Empty(t, again.header.Get("Idempotent-Replayed"))
	encoded := e.call(t, http.MethodPost, "/obp/v5.1.0/banks/gh%2E29%2Euk/customers", tok, obpCustSeedBody(), "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, encoded.status, "%s", encoded.body)
	require.Equal(t, "true", encoded.header.Get("Idempotent-Replayed"), "the same request, encoded otherwise")
	require.JSONEq(t, string(first.body), string(encoded.body))
}
