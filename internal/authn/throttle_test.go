package authn_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/internal/authn"
	"custgraph/internal/store"
)

// countingPost runs a token request with a statement counter.
func countingPost(s *authn.Service, authz string) (*httptest.ResponseRecorder, int64) {
	ctx, n := store.WithCounter(context.Background())
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, authn.TokenPath, strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", form)
	r.Header.Set("Authorization", authz)
	w := httptest.NewRecorder()
	s.TokenHandler().ServeHTTP(w, r)
	return w, n.N()
}

// TestGuessingASecretIsSlowedDown: past five failures in a row, each
// failure locks the client for twice as long as the one before; while it
// is locked, attempts are refused before any secret is checked.
func TestGuessingASecretIsSlowedDown(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	f.client("acme-app", nil)
	f.client("other-app", nil)
	wrong, right := basic("acme-app", "wrong"), basic("acme-app", testSecret)

	for i := range 5 {
		w, _ := countingPost(s, wrong)
		require.Equal(t, http.StatusUnauthorized, w.Code, "failure %d", i+1)
	}
	w, _ := countingPost(s, right)
	require.Equal(t, http.StatusOK, w.Code, "five failures cost nothing")
	for range 5 {
		countingPost(s, wrong)
	}
	w, _ = countingPost(s, wrong) // the sixth in a row: locked for 1 s
	require.Equal(t, http.StatusUnauthorized, w.Code)

	w, n := countingPost(s, right)
	require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"error":"invalid_client","error_description":"too many failed attempts for this client: try again in 1 s"}`, w.Body.String())
	assert.EqualValues(t, 1, n, "a locked account costs one statement and no hash")

	w, _ = countingPost(s, basic("other-app", testSecret))
	require.Equal(t, http.StatusOK, w.Code, "other accounts are not affected")

	f.clock.Advance(time.Second)
	countingPost(s, wrong) // the seventh: locked for 2 s
	f.clock.Advance(time.Second)
	w, _ = countingPost(s, right)
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	f.clock.Advance(time.Second)
	w, _ = countingPost(s, right)
	require.Equal(t, http.StatusOK, w.Code, "after the lock, the right secret works")
	countingPost(s, wrong)
	w, _ = countingPost(s, right)
	require.Equal(t, http.StatusOK, w.Code, "a success cleared the count")

	// The lock never exceeds 15 minutes.
	for range 30 {
		f.clock.Advance(15 * time.Minute)
		countingPost(s, wrong)
	}
	w, _ = countingPost(s, right)
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "900", w.Header().Get("Retry-After"))

	// Unknown clients are counted alike: the answers tell nothing.
	ghost := basic("ghost-app", "guess")
	for range 6 {
		w, _ = countingPost(s, ghost)
		require.Equal(t, http.StatusUnauthorized, w.Code)
	}
	w, _ = countingPost(s, ghost)
	require.Equal(t, http.StatusTooManyRequests, w.Code)
}

func TestGuessingAPasswordIsSlowedDown(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	f.client("obp-app", nil)
	f.user("alice")
	attempt := func(password string) *httptest.ResponseRecorder {
		return login(s, http.MethodPost, "DirectLogin", `username="alice", password="`+password+`", consumer_key="obp-app"`)
	}
	for range 6 {
		require.Equal(t, http.StatusUnauthorized, attempt("wrong").Code)
	}
	w := attempt(testPassword)
	require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"code":429,"message":"OBP-20009: The account has been locked, please contact Administrator! Too many failed attempts: try again in 1 s"}`, w.Body.String())
	f.clock.Advance(time.Second)
	require.Equal(t, http.StatusCreated, attempt(testPassword).Code)
}

// TestThrottleIsShared: the count lives in the database, so every replica
// sees the same lock.
func TestThrottleIsShared(t *testing.T) {
	f := newFixture(t)
	a, b := f.service(authn.Config{}), f.service(authn.Config{})
	f.client("acme-app", nil)
	for i := range 6 {
		s := a
		if i%2 == 1 {
			s = b
		}
		w, _ := countingPost(s, basic("acme-app", "wrong"))
		require.Equal(t, http.StatusUnauthorized, w.Code)
	}
	for _, s := range []*authn.Service{a, b} {
		w, _ := countingPost(s, basic("acme-app", testSecret))
		require.Equal(t, http.StatusTooManyRequests, w.Code)
	}
}
