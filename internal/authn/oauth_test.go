package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
	"custgraph/internal/authn"
)

const form = "application/x-www-form-urlencoded"

// postToken calls the token endpoint; authz is the Authorization header
// ("" for none).
func postToken(s *authn.Service, method, contentType, body, authz string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, authn.TokenPath, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	w := httptest.NewRecorder()
	s.TokenHandler().ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

func TestTokenEndpointIssuesClientTokens(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	bank := f.bank("gh.29.uk")
	cl := f.client("acme-app", &bank)
	g1 := f.grant(&cl.ID, nil, access.CanGetCustomer, &bank)
	g2 := f.grant(&cl.ID, nil, access.AtAnyBank(access.CanCreateCustomer), nil)

	for name, call := range map[string]func() *httptest.ResponseRecorder{
		"client_secret_basic": func() *httptest.ResponseRecorder {
			return postToken(s, http.MethodPost, form, "grant_type=client_credentials", basic("acme-app", testSecret))
		},
		"client_secret_post": func() *httptest.ResponseRecorder {
			body := "grant_type=client_credentials&client_id=acme-app&client_secret=" + url.QueryEscape(testSecret)
			return postToken(s, http.MethodPost, form+"; charset=UTF-8", body, "")
		},
		"basic with the same client_id in the form and an empty scope": func() *httptest.ResponseRecorder {
			return postToken(s, http.MethodPost, form, "grant_type=client_credentials&client_id=acme-app&scope=", basic("acme-app", testSecret))
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := call()
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, "no-cache", w.Header().Get("Pragma"))
			assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
			var body map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			require.Len(t, body, 3, w.Body.String())
			assert.Equal(t, "Bearer", body["token_type"])
			assert.Equal(t, float64(900), body["expires_in"])
			token := body["access_token"].(string)

			header, claims := inspect(t, token)
			assert.Equal(t, "ES256", header["alg"])
			assert.Equal(t, "custgraph", claims["iss"])
			assert.Equal(t, []any{"custgraph"}, claims["aud"])
			assert.Equal(t, "acme-app", claims["sub"])
			assert.Equal(t, "client", claims["cgk"])
			assert.NotContains(t, claims, "azp")
			now := float64(f.clock.Now().Unix())
			assert.Equal(t, now, claims["iat"])
			assert.Equal(t, now, claims["nbf"])
			assert.Equal(t, now+900, claims["exp"])
			_, err := uuid.Parse(claims["jti"].(string))
			assert.NoError(t, err)

			v, err := s.Authenticate(request("Authorization", "Bearer "+token))
			require.NoError(t, err)
			sameViewer(t, v, access.KindClient, cl.ID, "acme-app", &bank, g1, g2)
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	f.client("acme-app", nil)
	off := f.client("off-app", nil)
	f.db.Client.APIClient.UpdateOne(off).SetDisabled(true).ExecX(f.ctx)

	const grant = "grant_type=client_credentials"
	post := "&client_id=acme-app&client_secret=" + url.QueryEscape(testSecret)
	good := basic("acme-app", testSecret)
	challenge := `Basic realm="custgraph"`
	for _, tc := range []struct {
		name, method, contentType, body, authz string
		status                                 int
		code, description, wwwAuthenticate     string
	}{
		{"GET", http.MethodGet, "", "", good, 405, "invalid_request", "the token endpoint takes POST", ""},
		{"JSON body", http.MethodPost, "application/json", `{"grant_type":"client_credentials"}`, good, 415,
			"invalid_request", "the body must be application/x-www-form-urlencoded (Content-Type: application/x-www-form-urlencoded)", ""},
		{"no content type", http.MethodPost, "", grant, good, 415,
			"invalid_request", "the body must be application/x-www-form-urlencoded (Content-Type: application/x-www-form-urlencoded)", ""},
		{"body too long", http.MethodPost, form, grant + "&pad=" + strings.Repeat("a", 64<<10), good, 413,
			"invalid_request", "the body is larger than 65536 bytes", ""},
		{"not a form", http.MethodPost, form, "grant_type=%zz", good, 400, "invalid_request", "the body is not a valid form", ""},
		{"no grant_type", http.MethodPost, form, "client_id=acme-app", good, 400, "invalid_request", "grant_type is missing", ""},
		{"empty grant_type", http.MethodPost, form, "grant_type=", good, 400, "invalid_request", "grant_type is missing", ""},
		{"repeated grant_type", http.MethodPost, form, grant + "&" + grant, good, 400,
			"invalid_request", `the parameter "grant_type" is repeated`, ""},
		{"repeated client_id", http.MethodPost, form, grant + post + "&client_id=acme-app", "", 400,
			"invalid_request", `the parameter "client_id" is repeated`, ""},
		{"password grant", http.MethodPost, form, "grant_type=password&username=a&password=b", good, 400,
			"unsupported_grant_type", "the only grant type is client_credentials", ""},
		{"authorization_code grant", http.MethodPost, form, "grant_type=authorization_code&code=x", good, 400,
			"unsupported_grant_type", "the only grant type is client_credentials", ""},
		{"scope", http.MethodPost, form, grant + "&scope=customers:read", good, 400,
			"invalid_scope", "custgraph defines no scopes: omit the scope parameter", ""},
		{"basic and client_secret", http.MethodPost, form, grant + post, good, 400,
			"invalid_request", "use one client authentication method, not both HTTP Basic and client_secret", ""},
		{"basic for another client_id", http.MethodPost, form, grant + "&client_id=other-app", good, 400,
			"invalid_request", "client_id differs from the HTTP Basic credentials", ""},
		{"two Authorization headers", http.MethodPost, form, grant, good + "\n" + good, 400,
			"invalid_request", "repeated Authorization header", ""},
		{"no client authentication", http.MethodPost, form, grant, "", 401,
			"invalid_client", "client authentication is required: HTTP Basic, or client_id and client_secret", ""},
		{"client_id without secret", http.MethodPost, form, grant + "&client_id=acme-app", "", 401,
			"invalid_client", "client authentication is required: HTTP Basic, or client_id and client_secret", ""},
		{"bearer instead of basic", http.MethodPost, form, grant, "Bearer abc", 401,
			"invalid_client", "unsupported client authentication method: use HTTP Basic or client_secret_post", ""},
		{"wrong secret (post)", http.MethodPost, form, grant + "&client_id=acme-app&client_secret=wrong", "", 401,
			"invalid_client", "client authentication failed", ""},
		{"wrong secret (basic)", http.MethodPost, form, grant, basic("acme-app", "wrong"), 401,
			"invalid_client", "client authentication failed", challenge},
		{"secret not form-encoded (basic)", http.MethodPost, form, grant,
			"Basic " + base64.StdEncoding.EncodeToString([]byte("acme-app:"+testSecret)), 401,
			"invalid_client", "malformed HTTP Basic credentials", challenge},
		{"unknown client (basic)", http.MethodPost, form, grant, basic("nobody-app", testSecret), 401,
			"invalid_client", "client authentication failed", challenge},
		{"unknown client (post)", http.MethodPost, form, grant + "&client_id=nobody-app&client_secret=x", "", 401,
			"invalid_client", "client authentication failed", ""},
		{"disabled client", http.MethodPost, form, grant, basic("off-app", testSecret), 401,
			"invalid_client", "client authentication failed", challenge},
		{"basic not base64", http.MethodPost, form, grant, "Basic !!!", 401,
			"invalid_client", "malformed HTTP Basic credentials", challenge},
		{"basic without colon", http.MethodPost, form, grant, "Basic " + base64.StdEncoding.EncodeToString([]byte("acme-app")), 401,
			"invalid_client", "malformed HTTP Basic credentials", challenge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, authn.TokenPath, strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			for _, a := range strings.Split(tc.authz, "\n") {
				if a != "" {
					r.Header.Add("Authorization", a)
				}
			}
			w := httptest.NewRecorder()
			s.TokenHandler().ServeHTTP(w, r)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, map[string]string{"error": tc.code, "error_description": tc.description},
				decode[map[string]string](t, w))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, "no-cache", w.Header().Get("Pragma"))
			assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
			assert.Equal(t, tc.wwwAuthenticate, w.Header().Get("WWW-Authenticate"))
			allow := ""
			if tc.status == http.StatusMethodNotAllowed {
				allow = http.MethodPost
			}
			assert.Equal(t, allow, w.Header().Get("Allow"))
		})
	}
}

type jwkSet struct {
	Keys []map[string]string `json:"keys"`
}

// jwksKey rebuilds a public key from its JWK.
func jwksKey(t *testing.T, k map[string]string) *ecdsa.PublicKey {
	t.Helper()
	x, err := base64.RawURLEncoding.DecodeString(k["x"])
	require.NoError(t, err)
	y, err := base64.RawURLEncoding.DecodeString(k["y"])
	require.NoError(t, err)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	require.NoError(t, err)
	return pub
}

func getJWKS(t *testing.T, s *authn.Service) jwkSet {
	t.Helper()
	w := httptest.NewRecorder()
	s.JWKSHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, authn.JWKSPath, nil))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "public, max-age=300", w.Header().Get("Cache-Control"))
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	return decode[jwkSet](t, w)
}

func TestJWKSVerifiesIssuedTokens(t *testing.T) {
	f := newFixture(t)
	data, priv := newKey(t)
	s := f.service(authn.Config{KeyFiles: []string{writeFile(t, data)}})

	set := getJWKS(t, s)
	require.Len(t, set.Keys, 1)
	k := set.Keys[0]
	kid := thumbprint(t, &priv.PublicKey)
	assert.Equal(t, map[string]string{"kty": "EC", "crv": "P-256", "x": k["x"], "y": k["y"], "kid": kid, "alg": "ES256", "use": "sig"}, k)
	pub := jwksKey(t, k)
	assert.True(t, pub.Equal(&priv.PublicKey))

	token, expiresIn, err := s.Issue(authn.Subject{Kind: access.KindClient, ID: uuid.New(), ClientID: "acme-app"})
	require.NoError(t, err)
	assert.Equal(t, 900, expiresIn)
	parsed, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		assert.Equal(t, kid, tok.Header["kid"])
		return pub, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(f.clock.Now))
	require.NoError(t, err)
	assert.True(t, parsed.Valid)

	w := httptest.NewRecorder()
	s.JWKSHandler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, authn.JWKSPath, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t)
	want := func(base string) map[string]any {
		return map[string]any{
			"issuer":                                "custgraph",
			"token_endpoint":                        base + "/oauth/token",
			"jwks_uri":                              base + "/.well-known/jwks.json",
			"response_types_supported":              []any{},
			"grant_types_supported":                 []any{"client_credentials"},
			"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
		}
	}
	get := func(s *authn.Service, headers ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "http://api.bank.test"+authn.DiscoveryPath, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			if headers[i] == "Host" {
				r.Host = headers[i+1]
				continue
			}
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		s.DiscoveryHandler().ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code)
		return w
	}

	// Without a public URL there is no document: it is never built on the
	// request's Host.
	r := httptest.NewRequest(http.MethodGet, "http://api.bank.test"+authn.DiscoveryPath, nil)
	w := httptest.NewRecorder()
	f.service(authn.Config{}).DiscoveryHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusNotFound, w.Code)
	require.NotContains(t, w.Body.String(), "api.bank.test")

	for _, bad := range []string{"custgraph.example.com", "ftp://custgraph.example.com", "https://custgraph.example.com/?a=b", "https:///x"} {
		_, err := f.newService(authn.Config{PublicURL: bad})
		require.Error(t, err, bad)
	}

	s := f.service(authn.Config{PublicURL: "https://custgraph.example.com/api/"})
	w = get(s, "X-Forwarded-Proto", "http")
	assert.Equal(t, want("https://custgraph.example.com/api"), decode[map[string]any](t, w))
	assert.Equal(t, "public, max-age=300", w.Header().Get("Cache-Control"))
	// A Host or forwarded headers of the client's choosing change nothing.
	w = get(s, "Host", "evil.example", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "http")
	assert.Equal(t, want("https://custgraph.example.com/api"), decode[map[string]any](t, w))
}

// TestTokenEndpointsOutOfTimeAre503: when the request's time runs out
// before the database answers (a lock held, a stalled connection), the
// token endpoint and DirectLogin answer 503 with Retry-After, as every
// other door does, not 500 server_error / OBP-50015.
func TestTokenEndpointsOutOfTimeAre503(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	bank := f.bank("gh.29.uk")
	f.client("acme-app", &bank)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	r := httptest.NewRequestWithContext(ctx, http.MethodPost, authn.TokenPath, strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", form)
	r.Header.Set("Authorization", basic("acme-app", testSecret))
	w := httptest.NewRecorder()
	s.TokenHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	require.NotEmpty(t, w.Header().Get("Retry-After"))
	require.Equal(t, "temporarily_unavailable", decode[map[string]string](t, w)["error"])

	r = httptest.NewRequestWithContext(ctx, http.MethodPost, authn.DirectLoginPath, nil)
	r.Header.Set("DirectLogin", `username="nobody", password="x", consumer_key="acme-app"`)
	w = httptest.NewRecorder()
	s.DirectLoginHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	require.NotEmpty(t, w.Header().Get("Retry-After"))
}
