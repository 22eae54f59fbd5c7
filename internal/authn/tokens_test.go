package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/authn"
	"custgraph/internal/store"
)

func TestTokensAreRefused(t *testing.T) {
	f := newFixture(t)
	data, priv := newKey(t)
	_, other := newKey(t)
	s := f.service(authn.Config{KeyFiles: []string{writeFile(t, data)}})
	cl := f.client("acme-app", nil)
	kid := thumbprint(t, &priv.PublicKey)
	now := f.clock.Now()

	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "custgraph", "aud": "custgraph", "sub": "acme-app", "cgk": "client",
			"cid": cl.ID.String(), "cgg": 0,
			"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": "j1"}
		if change != nil {
			change(c)
		}
		return c
	}
	es256 := func(change func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodES256, priv, kid, claims(change))
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	// The harness makes tokens that are accepted, within the leeway too.
	for name, token := range map[string]string{
		"crafted":             es256(nil),
		"expired 20 s ago":    es256(func(c jwt.MapClaims) { c["exp"] = now.Add(-20 * time.Second).Unix() }),
		"valid in 20 s":       es256(func(c jwt.MapClaims) { c["nbf"] = now.Add(20 * time.Second).Unix() }),
		"aud as a list":       es256(func(c jwt.MapClaims) { c["aud"] = []string{"other", "custgraph"} }),
		"without nbf and jti": es256(func(c jwt.MapClaims) { delete(c, "nbf"); delete(c, "jti") }),
	} {
		v, err := s.Verify(context.Background(), token)
		require.NoError(t, err, name)
		assert.Equal(t, "acme-app", v.Name, name)
	}

	const (
		invalid   = "the access token is invalid"
		malformed = "malformed access token"
		signature = "the access token's signature is invalid"
		unknown   = "the access token's signing key is unknown"
		missing   = "the access token lacks a required claim"
		notYet    = "the access token is not valid yet"
	)
	for _, tc := range []struct {
		name, token, description string
		cause                    error
	}{
		{"expired", es256(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }),
			"the access token has expired", jwt.ErrTokenExpired},
		{"nbf in the future", es256(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), notYet, jwt.ErrTokenNotValidYet},
		{"iat in the future", es256(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix() }), notYet, jwt.ErrTokenUsedBeforeIssued},
		{"missing exp", es256(func(c jwt.MapClaims) { delete(c, "exp") }), missing, jwt.ErrTokenRequiredClaimMissing},
		{"missing aud", es256(func(c jwt.MapClaims) { delete(c, "aud") }), missing, jwt.ErrTokenRequiredClaimMissing},
		{"wrong aud", es256(func(c jwt.MapClaims) { c["aud"] = "other-api" }),
			"the access token is meant for another audience", jwt.ErrTokenInvalidAudience},
		{"wrong iss", es256(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), "unknown token issuer", nil},
		{"missing iss", es256(func(c jwt.MapClaims) { delete(c, "iss") }), "unknown token issuer", nil},
		{"malformed", "not-a-token", malformed, jwt.ErrTokenMalformed},
		{"three garbage segments", "a.b.c", malformed, jwt.ErrTokenMalformed},
		{"too long", es256(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("a", 16<<10) }), malformed, nil},
		{"signed by another key", sign(t, jwt.SigningMethodES256, other, kid, claims(nil)), signature, jwt.ErrTokenSignatureInvalid},
		{"tampered claims", tamper(t, es256(nil)), signature, jwt.ErrTokenSignatureInvalid},
		{"unknown kid", sign(t, jwt.SigningMethodES256, other, "some-other-kid", claims(nil)), unknown, jwt.ErrTokenUnverifiable},
		{"no kid", sign(t, jwt.SigningMethodES256, priv, "", claims(nil)), unknown, jwt.ErrTokenUnverifiable},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims(nil)), signature, jwt.ErrTokenSignatureInvalid},
		{"HS256 keyed with the public key", sign(t, jwt.SigningMethodHS256, pubPEM, kid, claims(nil)), signature, jwt.ErrTokenSignatureInvalid},
		{"ES384", sign(t, jwt.SigningMethodES384, p384, kid, claims(nil)), signature, jwt.ErrTokenSignatureInvalid},
		{"unknown caller kind", es256(func(c jwt.MapClaims) { c["cgk"] = "admin" }), invalid, nil},
		{"no caller kind", es256(func(c jwt.MapClaims) { delete(c, "cgk") }), invalid, nil},
		{"user token without azp", es256(func(c jwt.MapClaims) { c["cgk"] = "user"; c["sub"] = uuid.NewString() }), invalid, nil},
		{"user token without a user id", es256(func(c jwt.MapClaims) { c["cgk"] = "user"; c["azp"] = "acme-app" }), invalid, nil},
		{"user token naming another user", es256(func(c jwt.MapClaims) {
			c["cgk"], c["azp"], c["sub"] = "user", "acme-app", uuid.NewString()
		}), invalid, nil},
		{"unknown client", es256(func(c jwt.MapClaims) { c["sub"] = "nobody-app" }), "the token's client does not exist", nil},
		{"without a caller id", es256(func(c jwt.MapClaims) { delete(c, "cid") }), invalid, nil},
		{"a former client's id", es256(func(c jwt.MapClaims) { c["cid"] = uuid.NewString() }), "the token's client does not exist", nil},
		{"an older credential generation", es256(func(c jwt.MapClaims) { c["cgg"] = -1 }),
			"the access token was revoked: the client's credentials changed", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := s.Verify(context.Background(), tc.token)
			assert.Nil(t, v)
			refused(t, err, authn.CodeInvalidToken, tc.description)
			if tc.cause != nil {
				assert.ErrorIs(t, err, tc.cause)
			}
		})
	}
}

// tamper changes a token's subject, keeping its signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	_, claims := inspect(t, token)
	claims["sub"] = "someone-else"
	forged := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims)
	return parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
}

func TestCallersAreLoadedOnEveryRequest(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	bank := f.bank("gh.29.uk")
	cl := f.client("acme-app", &bank)
	g1 := f.grant(&cl.ID, nil, access.CanGetCustomer, &bank)
	f.grant(&cl.ID, nil, access.CanCreateCustomer, &bank)
	token, _, err := s.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)

	// One query for the client, one for its entitlements.
	ctx, count := store.WithCounter(context.Background())
	v, err := s.Authenticate(request("Authorization", "Bearer "+token, "Requestor-ID", "clerk-7").WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, int64(2), count.N())
	assert.Len(t, v.Grants(), 2)
	assert.Equal(t, "clerk-7", v.RequestorID)

	// A revoked entitlement is gone from the next request.
	f.db.Client.Entitlement.DeleteOneID(entitlementOf(t, f, cl.ID, access.CanCreateCustomer)).ExecX(f.ctx)
	v, err = s.Verify(context.Background(), token)
	require.NoError(t, err)
	sameViewer(t, v, access.KindClient, cl.ID, "acme-app", &bank, g1)

	f.db.Client.APIClient.UpdateOne(cl).SetDisabled(true).ExecX(f.ctx)
	_, err = s.Verify(context.Background(), token)
	refused(t, err, authn.CodeInvalidToken, "the token's client is disabled")

	f.db.Client.APIClient.UpdateOne(cl).SetDisabled(false).ExecX(f.ctx)
	_, err = s.Verify(context.Background(), token)
	require.NoError(t, err)

	f.db.Client.APIClient.DeleteOne(cl).ExecX(f.ctx)
	_, err = s.Verify(context.Background(), token)
	refused(t, err, authn.CodeInvalidToken, "the token's client does not exist")
}

func entitlementOf(t *testing.T, f *fixture, clientID uuid.UUID, role access.Role) uuid.UUID {
	t.Helper()
	for _, e := range f.db.Client.APIClient.GetX(f.ctx, clientID).QueryEntitlements().AllX(f.ctx) {
		if e.RoleName == string(role) {
			return e.ID
		}
	}
	t.Fatalf("no entitlement %s", role)
	return uuid.Nil
}

func TestIssueChecksItsArguments(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{TokenTTL: time.Hour, Issuer: "https://custgraph.bank.test", Audience: "customers"})
	id := uuid.New()
	for _, sub := range []authn.Subject{
		{Kind: access.KindClient, ID: id}, {Kind: access.KindClient, ClientID: "acme-app"},
		{Kind: access.KindClient, ID: id, ClientID: "acme-app", Consumer: "other-app"},
		{Kind: access.KindUser, ID: id}, {Kind: access.KindUser, Consumer: "acme-app"},
		{Kind: access.KindUser, ID: id, Consumer: "acme-app", Generation: -1}, {Kind: access.KindSystem, ID: id},
	} {
		_, _, err := s.Issue(sub)
		assert.Error(t, err, sub)
	}
	token, expiresIn, err := s.Issue(authn.Subject{Kind: access.KindUser, ID: id, Consumer: "acme-app", Generation: 3})
	require.NoError(t, err)
	assert.Equal(t, 3600, expiresIn)
	_, claims := inspect(t, token)
	assert.Equal(t, "https://custgraph.bank.test", claims["iss"])
	assert.Equal(t, []any{"customers"}, claims["aud"])
	assert.Equal(t, "acme-app", claims["azp"])
	assert.Equal(t, "user", claims["cgk"])
	assert.Equal(t, id.String(), claims["sub"])
	assert.Equal(t, id.String(), claims["cid"])
	assert.Equal(t, float64(3), claims["cgg"])
	assert.Equal(t, float64(f.clock.Now().Add(time.Hour).Unix()), claims["exp"])

	// Another issuer's or audience's service refuses it.
	_, err = f.service(authn.Config{Audience: "customers"}).Verify(context.Background(), token)
	refused(t, err, authn.CodeInvalidToken, "unknown token issuer")
	_, err = f.service(authn.Config{Issuer: "https://custgraph.bank.test"}).Verify(context.Background(), token)
	refused(t, err, authn.CodeInvalidToken, "the access token is meant for another audience")
}

func TestAuthenticateFindsTheCredentials(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	cl := f.client("acme-app", nil)
	token, _, err := s.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)

	for _, h := range [][]string{
		{"Authorization", "Bearer " + token},
		{"Authorization", "bearer  " + token},
		{"Authorization", `DirectLogin token="` + token + `"`},
		{"Authorization", "DirectLogin token=" + token},
		{"Authorization", `DirectLogin  token = "` + token + `" ,`},
		{"DirectLogin", `token="` + token + `"`},
		{"DirectLogin", "token=" + token},
		{"DirectLogin", `DirectLogin token="` + token + `"`},
		{"Authorization", "Bearer " + token, "DirectLogin", `username="alice", password="x", consumer_key="acme-app"`},
	} {
		v, err := s.Authenticate(request(h...))
		require.NoError(t, err, h)
		sameViewer(t, v, access.KindClient, cl.ID, "acme-app", nil)
	}

	for _, h := range [][]string{
		nil,
		{"Authorization", basic("acme-app", testSecret)},
		{"Authorization", `DirectLogin username="alice", password="x", consumer_key="acme-app"`},
		{"DirectLogin", `username="alice", password="x", consumer_key="acme-app"`},
		{"Authorization", "OAuth oauth_token=abc"},
	} {
		v, err := s.Authenticate(request(h...))
		assert.NoError(t, err, h)
		assert.Nil(t, v, h)
	}

	for _, tc := range []struct {
		headers     []string
		description string
	}{
		{[]string{"Authorization", "Bearer"}, "empty access token"},
		{[]string{"Authorization", "Bearer   "}, "empty access token"},
		{[]string{"Authorization", `DirectLogin token=""`}, "empty access token"},
		{[]string{"Authorization", "Bearer " + token, "Authorization", "Bearer " + token}, "repeated Authorization or DirectLogin header"},
		{[]string{"DirectLogin", "token=" + token, "DirectLogin", "token=" + token}, "repeated Authorization or DirectLogin header"},
		{[]string{"Authorization", "Bearer " + token, "DirectLogin", "token=" + token}, "more than one access token"},
		{[]string{"Authorization", `DirectLogin token="` + token}, "malformed DirectLogin parameters"},
		{[]string{"DirectLogin", `token="a", token="b"`}, "malformed DirectLogin parameters"},
		{[]string{"DirectLogin", `token="a" b`}, "malformed DirectLogin parameters"},
	} {
		v, err := s.Authenticate(request(tc.headers...))
		assert.Nil(t, v)
		refused(t, err, authn.CodeInvalidRequest, tc.description)
	}
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	cl := f.client("acme-app", nil)
	token, _, err := s.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)

	var (
		reached bool
		viewer  *access.Viewer
		failure error
	)
	h := middleware.RequestID(s.Middleware(func(w http.ResponseWriter, r *http.Request, err error) {
		failure = err
		s.Challenge(w, err)
		w.WriteHeader(http.StatusUnauthorized)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached, viewer = true, access.FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})))
	serve := func(headers ...string) *httptest.ResponseRecorder {
		reached, viewer, failure = false, nil, nil
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(headers...))
		return w
	}

	w := serve()
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.True(t, reached)
	assert.Nil(t, viewer, "no credentials: anonymous")

	w = serve("Authorization", "Bearer "+token, "Requestor-ID", "clerk-7", "X-Request-Id", "req-42")
	assert.Equal(t, http.StatusNoContent, w.Code)
	sameViewer(t, viewer, access.KindClient, cl.ID, "acme-app", nil)
	assert.Equal(t, "clerk-7", viewer.RequestorID)
	assert.Equal(t, "req-42", viewer.RequestID)

	w = serve("Authorization", "Bearer "+token+"x")
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.False(t, reached)
	refused(t, failure, authn.CodeInvalidToken, "the access token's signature is invalid")
	assert.Equal(t, []string{
		`Bearer realm="custgraph", error="invalid_token", error_description="the access token's signature is invalid"`,
		`DirectLogin realm="custgraph"`,
	}, w.Header().Values("WWW-Authenticate"))

	w = serve("Authorization", "Bearer")
	assert.False(t, reached)
	assert.Equal(t, `Bearer realm="custgraph", error="invalid_request", error_description="empty access token"`,
		w.Header().Get("WWW-Authenticate"))

	// A failure that is not the caller's is not an AuthError, and says nothing of its cause.
	f.db.Client.Close()
	w = serve("Authorization", "Bearer "+token)
	assert.False(t, reached)
	var ae *authn.AuthError
	assert.False(t, errors.As(failure, &ae))
	e, ok := apperr.As(failure)
	require.True(t, ok, "%v", failure)
	assert.Equal(t, apperr.Internal, e.Code)
	assert.Equal(t, []string{`Bearer realm="custgraph"`, `DirectLogin realm="custgraph"`}, w.Header().Values("WWW-Authenticate"))
}

// TestMiddlewareChecksInTime: the check of a request's credentials, which
// may load its caller, is bounded by CheckTimeout, since the request's own
// timeout starts after it: a database that does not answer in time (here:
// no time at all) is UNAVAILABLE, which the doors answer 503, and the
// request goes no further. It used to wait as long as the database did
// (a lock held on api_clients: no answer at all after 75 s).
func TestMiddlewareChecksInTime(t *testing.T) {
	f := newFixture(t)
	cl := f.client("acme-app", nil)
	for _, bound := range []time.Duration{0, time.Nanosecond} {
		s := f.service(authn.Config{CheckTimeout: bound}) // (a new service: nothing cached)
		token, _, err := s.Issue(authn.ClientSubject(cl))
		require.NoError(t, err)
		var failure error
		reached := false
		h := s.Middleware(func(w http.ResponseWriter, r *http.Request, err error) { failure = err })(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				_, hasDeadline := r.Context().Deadline()
				assert.False(t, hasDeadline, "the bound is the check's only")
			}))
		h.ServeHTTP(httptest.NewRecorder(), request("Authorization", "Bearer "+token))
		if bound == 0 {
			require.NoError(t, failure)
			require.True(t, reached)
			continue
		}
		require.False(t, reached)
		e, ok := apperr.As(failure)
		require.True(t, ok, "%v", failure)
		require.Equal(t, apperr.Unavailable, e.Code)
		require.Equal(t, "the database did not answer in time: retry later", e.Message)
	}
}
