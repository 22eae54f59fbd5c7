package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/internal/access"
	"custgraph/internal/authn"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// The secret of every test client and the password of every test user.
// The secret has characters that HTTP Basic must form-encode.
const (
	testSecret   = "s3cret: with+plus & 100%, \"quoted\""
	testPassword = "correct horse battery staple"
)

// testHashes are the hashes of testSecret and testPassword, made once:
// hashing is slow by design.
var testHashes = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, s := range []string{testSecret, testPassword} {
		h, err := authn.HashSecret(s)
		if err != nil {
			panic(err)
		}
		out[s] = h
	}
	return out
})

// clock is a settable clock shared by the services of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a fresh database, a clock, and helpers to fill them.
type fixture struct {
	t     *testing.T
	db    *store.DB
	ctx   context.Context // acting as custgraph itself
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, _ := testdb.Open(t)
	return &fixture{t: t, db: db, ctx: access.System(context.Background()),
		clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
}

// service returns a service on the fixture's database and clock.
func (f *fixture) service(cfg authn.Config) *authn.Service {
	f.t.Helper()
	s, err := f.newService(cfg)
	require.NoError(f.t, err)
	return s
}

func (f *fixture) newService(cfg authn.Config) (*authn.Service, error) {
	if cfg.Now == nil {
		cfg.Now = f.clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return authn.New(f.t.Context(), f.db.Client, cfg)
}

func (f *fixture) bank(code string) uuid.UUID {
	f.t.Helper()
	return f.db.Client.Bank.Create().SetCode(code).SetName("Bank " + code).SaveX(f.ctx).ID
}

// client creates an API client whose secret is testSecret.
func (f *fixture) client(clientID string, bank *uuid.UUID) *ent.APIClient {
	f.t.Helper()
	return f.db.Client.APIClient.Create().SetClientID(clientID).SetName("Client " + clientID).
		SetSecretHash(testHashes()[testSecret]).SetNillableBankID(bank).SaveX(f.ctx)
}

// user creates a user whose password is testPassword.
func (f *fixture) user(username string) *ent.User {
	f.t.Helper()
	return f.db.Client.User.Create().SetUsername(username).SetPasswordHash(testHashes()[testPassword]).SaveX(f.ctx)
}

// grant gives a client (clientID) or a user (userID) a role, at bank or
// system-wide (bank nil), and returns the grant the viewer should hold.
func (f *fixture) grant(clientID, userID *uuid.UUID, role access.Role, bank *uuid.UUID) access.Grant {
	f.t.Helper()
	f.db.Client.Entitlement.Create().SetNillableAPIClientID(clientID).SetNillableUserID(userID).
		SetRoleName(string(role)).SetNillableBankID(bank).SaveX(f.ctx)
	g := access.Grant{Role: role}
	if bank != nil {
		g.Bank = *bank
	}
	return g
}

// newKey returns a new P-256 key as PEM and parsed.
func newKey(t *testing.T) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	data, err := authn.GenerateKeyPEM()
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.Equal(t, "PRIVATE KEY", block.Type)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	return data, key.(*ecdsa.PrivateKey)
}

// writeFile writes data to a new file and returns its path.
func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// thumbprint computes a P-256 key's RFC 7638 thumbprint independently of
// the package: encoding/json writes map keys sorted, without spaces.
func thumbprint(t *testing.T, pub *ecdsa.PublicKey) string {
	t.Helper()
	ec, err := pub.ECDH()
	require.NoError(t, err)
	point := ec.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	j, err := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])})
	require.NoError(t, err)
	sum := sha256.Sum256(j)
	return b64(sum[:])
}

// sign makes a token with any method, key, kid and claims.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// inspect returns the unverified header and claims of a token.
func inspect(t *testing.T, token string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(token, claims)
	require.NoError(t, err)
	return tok.Header, claims
}

// request returns a GET request with the given header lines (name, value, …).
func request(headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/query", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// basic returns an HTTP Basic Authorization value, id and secret
// form-encoded as RFC 6749 §2.3.1 requires.
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// refused asserts that err refuses credentials with code and description.
func refused(t *testing.T, err error, code, description string) *authn.AuthError {
	t.Helper()
	var ae *authn.AuthError
	require.True(t, errors.As(err, &ae), "want an *AuthError, got %v", err)
	assert.Equal(t, code, ae.Code)
	assert.Equal(t, description, ae.Description)
	assert.Equal(t, description, ae.Error())
	return ae
}

// sameViewer asserts a viewer's identity, binding and grants.
func sameViewer(t *testing.T, v *access.Viewer, kind access.Kind, id uuid.UUID, name string, bank *uuid.UUID, grants ...access.Grant) {
	t.Helper()
	require.NotNil(t, v)
	assert.Equal(t, kind, v.Kind)
	assert.Equal(t, id, v.ID)
	assert.Equal(t, name, v.Name)
	assert.Equal(t, bank, v.Bank)
	assert.ElementsMatch(t, grants, v.Grants())
}
