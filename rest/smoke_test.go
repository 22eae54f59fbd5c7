package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestHarness checks the test harness itself: tokens of clients and users
// work, and OBP's unknown URLs answer OBP-10404.
func TestHarness(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	data := e.gql(t, tok, `{ viewer { kind } }`, nil)
	require.JSONEq(t, `{"kind":"client"}`, string(data["viewer"]))
	_, dl := e.user(t, "jane", at(e.A, access.CanGetCustomer)...)
	data = e.gql(t, dl, `{ viewer { kind name } }`, nil)
	require.JSONEq(t, `{"kind":"user","name":"jane"}`, string(data["viewer"]))

	res := e.call(t, http.MethodGet, "/obp/v3.1.0/nowhere", tok, nil)
	require.Equal(t, http.StatusNotFound, res.status)
	require.Equal(t, float64(404), res.object(t)["code"])
	require.Contains(t, res.object(t)["message"], "OBP-10404: 404 Not Found.")
}
