package rest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// TestBsaiFirstPageReadsItsCountWithIt: bankingservice.ai's first page of
// customers reads the bank's count, its customers and their primary
// addresses, the count and the page in one round trip on PostgreSQL
// (internal/entbatch); a later page is read once the count says it is
// there. The statements are the same on both databases.
func TestBsaiFirstPageReadsItsCountWithIt(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	for range 3 {
		res := e.call(t, http.MethodPost, bsaiPath, tok, bsaiSeedBody())
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	}
	pg := testdb.Name() == "postgres"
	get := func(query string) [2]int64 {
		ctx, n := store.WithCounter(context.Background())
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, bsaiPath+query, nil)
		req.Header.Set("Authorization", tok)
		rec := httptest.NewRecorder()
		e.srv.Config.Handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
		return [2]int64{n.N(), n.RoundTrips()}
	}
	get("?page=0&size=2") // (the caller's first request reads its entitlements)
	// The bank, its count, the page and its addresses.
	first, later := [2]int64{4, 4}, [2]int64{4, 4}
	if pg {
		first = [2]int64{4, 3}
	}
	require.Equal(t, first, get("?page=0&size=2"), "the first page: statements, round trips")
	require.Equal(t, later, get("?page=1&size=2"), "the second")
	require.Equal(t, [2]int64{2, 2}, get("?page=2&size=2"), "beyond the last: the bank and its count")
}
