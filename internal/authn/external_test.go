package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
	"custgraph/internal/authn"
)

// idp is an OpenID provider's JWK Set endpoint whose keys the test sets.
type idp struct {
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	fetches atomic.Int32
	srv     *httptest.Server
}

func newIDP(t *testing.T) *idp {
	p := &idp{keys: map[string]*rsa.PrivateKey{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		b64 := base64.RawURLEncoding.EncodeToString
		set := map[string][]map[string]string{"keys": {}}
		for kid, k := range p.keys {
			set["keys"] = append(set["keys"], map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// rotate publishes a new key under kid and returns it.
func (p *idp) rotate(t *testing.T, kid string) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[kid] = k
	return k
}

func TestExternalIssuer(t *testing.T) {
	f := newFixture(t)
	p := newIDP(t)
	k1 := p.rotate(t, "idp-1")
	const issuer = "https://idp.bank.test/realms/staff"
	s := f.service(authn.Config{External: &authn.External{Issuer: issuer, Audience: "custgraph-api", JWKSURL: p.srv.URL}})
	assert.Equal(t, int32(1), p.fetches.Load(), "the keys are fetched at start")

	bank := f.bank("gh.29.uk")
	eve := f.db.Client.User.Create().SetUsername("eve").SetExternalSubject("f81d4fae-7dec").SaveX(f.ctx)
	g := f.grant(nil, &eve.ID, access.CanGetCustomer, &bank)
	partner := f.db.Client.APIClient.Create().SetClientID("partner-x").SetName("Partner").SetSecretHash(testHashes()[testSecret]).
		SetBankID(bank).SetExternalSubject("service-account-partner-x").SaveX(f.ctx)
	gp := f.grant(&partner.ID, nil, access.CanCreateCustomer, &bank)
	f.db.Client.User.Create().SetUsername("mallory").SetExternalSubject("mallory-sub").SetDisabled(true).ExecX(f.ctx)

	now := f.clock.Now()
	claims := func(sub string, change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": issuer, "aud": []string{"custgraph-api", "account"}, "sub": sub,
			"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "azp": "some-frontend"}
		if change != nil {
			change(c)
		}
		return c
	}
	ctx := context.Background()

	v, err := s.Verify(ctx, sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("f81d4fae-7dec", nil)))
	require.NoError(t, err)
	sameViewer(t, v, access.KindUser, eve.ID, "eve", nil, g)

	v, err = s.Verify(ctx, sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("service-account-partner-x", nil)))
	require.NoError(t, err)
	sameViewer(t, v, access.KindClient, partner.ID, "partner-x", &bank, gp)

	pubDER, err := x509.MarshalPKIXPublicKey(&k1.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	for _, tc := range []struct {
		name, token, description string
	}{
		{"unknown subject", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("stranger", nil)),
			"the token's subject is not a custgraph caller"},
		{"disabled user", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("mallory-sub", nil)), "the token's user is disabled"},
		{"no subject", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("", nil)), "the access token lacks a required claim"},
		// No caller can have these (external_subject: at most 255
		// characters; PostgreSQL refuses NUL in text): not looked up.
		{"subject with NUL", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("f81d4fae\x00-7dec", nil)),
			"the token's subject is not a custgraph caller"},
		{"subject over 255 characters", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims(strings.Repeat("é", 256), nil)),
			"the token's subject is not a custgraph caller"},
		{"custgraph's own sub naming", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("partner-x", nil)),
			"the token's subject is not a custgraph caller"},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("f81d4fae-7dec", func(c jwt.MapClaims) { c["aud"] = "account" })),
			"the access token is meant for another audience"},
		{"expired", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("f81d4fae-7dec", func(c jwt.MapClaims) {
			c["exp"] = now.Add(-time.Minute).Unix()
		})), "the access token has expired"},
		{"missing exp", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("f81d4fae-7dec", func(c jwt.MapClaims) { delete(c, "exp") })),
			"the access token lacks a required claim"},
		{"HS256 keyed with the public key", sign(t, jwt.SigningMethodHS256, pubPEM, "idp-1", claims("f81d4fae-7dec", nil)),
			"the access token's signature is invalid"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "idp-1", claims("f81d4fae-7dec", nil)),
			"the access token's signature is invalid"},
		{"another issuer", sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("f81d4fae-7dec", func(c jwt.MapClaims) {
			c["iss"] = "https://idp.bank.test/realms/other"
		})), "unknown token issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := s.Verify(ctx, tc.token)
			assert.Nil(t, v)
			refused(t, err, authn.CodeInvalidToken, tc.description)
		})
	}
	assert.Equal(t, int32(1), p.fetches.Load(), "known kids need no fetch")

	// The longest subject the schema allows is still looked up.
	longest := f.db.Client.User.Create().SetUsername("longest").SetExternalSubject(strings.Repeat("s", 255)).SaveX(f.ctx)
	v, err = s.Verify(ctx, sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims(strings.Repeat("s", 255), nil)))
	require.NoError(t, err)
	assert.Equal(t, longest.ID, v.ID)
	// Counted in characters, as the schema counts them: 255 "é" are 510 bytes.
	wide := f.db.Client.User.Create().SetUsername("widest").SetExternalSubject(strings.Repeat("é", 255)).SaveX(f.ctx)
	v, err = s.Verify(ctx, sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims(strings.Repeat("é", 255), nil)))
	require.NoError(t, err)
	assert.Equal(t, wide.ID, v.ID)

	// The provider rotates its keys: a token signed with the new one makes
	// custgraph fetch them again, once.
	k2 := p.rotate(t, "idp-2")
	v, err = s.Verify(ctx, sign(t, jwt.SigningMethodRS256, k2, "idp-2", claims("f81d4fae-7dec", nil)))
	require.NoError(t, err)
	sameViewer(t, v, access.KindUser, eve.ID, "eve", nil, g)
	assert.Equal(t, int32(2), p.fetches.Load())
	_, err = s.Verify(ctx, sign(t, jwt.SigningMethodRS256, k1, "idp-1", claims("f81d4fae-7dec", nil)))
	require.NoError(t, err, "the old key is still published")

	// A key the provider never published is refused.
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, err = s.Verify(ctx, sign(t, jwt.SigningMethodRS256, stranger, "idp-9", claims("f81d4fae-7dec", nil)))
	refused(t, err, authn.CodeInvalidToken, "the access token's signing key is unknown")
	_, err = s.Verify(ctx, sign(t, jwt.SigningMethodRS256, stranger, "idp-1", claims("f81d4fae-7dec", nil)))
	refused(t, err, authn.CodeInvalidToken, "the access token's signature is invalid")

	// custgraph's own tokens are still accepted alongside.
	own, _, err := s.Issue(authn.ClientSubject(partner))
	require.NoError(t, err)
	v, err = s.Verify(ctx, own)
	require.NoError(t, err)
	sameViewer(t, v, access.KindClient, partner.ID, "partner-x", &bank, gp)
}

func TestExternalIssuerConfiguration(t *testing.T) {
	f := newFixture(t)
	for name, x := range map[string]authn.External{
		"no audience":    {Issuer: "https://idp.test", JWKSURL: "https://idp.test/jwks"},
		"no issuer":      {Audience: "custgraph", JWKSURL: "https://idp.test/jwks"},
		"no JWK Set":     {Issuer: "https://idp.test", Audience: "custgraph"},
		"our own issuer": {Issuer: "custgraph", Audience: "custgraph", JWKSURL: "https://idp.test/jwks"},
		"not a URL":      {Issuer: "https://idp.test", Audience: "custgraph", JWKSURL: "::"},
	} {
		_, err := f.newService(authn.Config{External: &x})
		assert.Error(t, err, name)
	}
}
