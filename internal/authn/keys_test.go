package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent/apiclient"
	"custgraph/ent/signingkey"
	"custgraph/internal/authn"
)

// issue returns a client token of s for acme-app and its kid.
func (f *fixture) issue(s *authn.Service) (token, kid string) {
	f.t.Helper()
	cl := f.db.Client.APIClient.Query().Where(apiclient.ClientID("acme-app")).OnlyX(f.ctx)
	token, _, err := s.Issue(authn.ClientSubject(cl))
	require.NoError(f.t, err)
	header, _ := inspect(f.t, token)
	return token, header["kid"].(string)
}

func kids(t *testing.T, s *authn.Service) []string {
	t.Helper()
	var out []string
	for _, k := range getJWKS(t, s).Keys {
		out = append(out, k["kid"])
	}
	return out
}

func TestKeyRotationByConfiguration(t *testing.T) {
	f := newFixture(t)
	f.client("acme-app", nil)
	pem1, key1 := newKey(t)
	pem2, key2 := newKey(t)
	file1, file2 := writeFile(t, pem1), writeFile(t, pem2)
	kid1, kid2 := thumbprint(t, &key1.PublicKey), thumbprint(t, &key2.PublicKey)
	ctx := context.Background()

	before := f.service(authn.Config{KeyFiles: []string{file1}})
	old, kid := f.issue(before)
	assert.Equal(t, kid1, kid)
	assert.Equal(t, []string{kid1}, kids(t, before))

	// Step 1: the new key verifies; step 2: it signs, and the old one still verifies.
	for _, step := range [][2]string{{kid1, kid2}, {kid2, kid1}} {
		files := map[string]string{kid1: file1, kid2: file2}
		s := f.service(authn.Config{KeyFiles: []string{files[step[0]], files[step[1]]}})
		_, err := s.Verify(ctx, old)
		require.NoError(t, err)
		_, kid := f.issue(s)
		assert.Equal(t, step[0], kid)
		assert.Equal(t, step[:], kids(t, s))
	}

	// Step 3: the old key is gone, and its tokens with it.
	after := f.service(authn.Config{KeyFiles: []string{file2}})
	_, err := after.Verify(ctx, old)
	refused(t, err, authn.CodeInvalidToken, "the access token's signing key is unknown")
	assert.ErrorIs(t, err, jwt.ErrTokenUnverifiable)
	fresh, kid := f.issue(after)
	assert.Equal(t, kid2, kid)
	_, err = after.Verify(ctx, fresh)
	require.NoError(t, err)
	assert.Equal(t, []string{kid2}, kids(t, after))

	assert.Zero(t, f.db.Client.SigningKey.Query().CountX(f.ctx), "key files leave the database alone")
}

func TestKeyFiles(t *testing.T) {
	f := newFixture(t)
	f.client("acme-app", nil)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(priv)
	require.NoError(t, err)
	params, err := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}) // prime256v1
	require.NoError(t, err)
	// As `openssl ecparam -name prime256v1 -genkey` writes it.
	openssl := append(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: params}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)
	s := f.service(authn.Config{KeyFiles: []string{writeFile(t, openssl)}})
	token, kid := f.issue(s)
	assert.Equal(t, thumbprint(t, &priv.PublicKey), kid)
	_, err = s.Verify(context.Background(), token)
	require.NoError(t, err)

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	same := writeFile(t, pkcs8(priv))
	for name, files := range map[string][]string{
		"P-384 key":          {writeFile(t, pkcs8(p384))},
		"RSA key":            {writeFile(t, pkcs8(rsaKey))},
		"public key only":    {writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))},
		"not PEM":            {writeFile(t, []byte("hello"))},
		"corrupt key":        {writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}))},
		"encrypted key":      {writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}))},
		"missing file":       {filepath.Join(t.TempDir(), "nope.pem")},
		"the same key twice": {same, writeFile(t, openssl)},
	} {
		_, err := f.newService(authn.Config{KeyFiles: files})
		assert.Error(t, err, name)
	}
}

func TestDatabaseKeysAreShared(t *testing.T) {
	f := newFixture(t)
	f.client("acme-app", nil)
	ctx := context.Background()

	// The first replica makes the key; the second uses it.
	s1 := f.service(authn.Config{})
	rows := f.db.Client.SigningKey.Query().AllX(f.ctx)
	require.Len(t, rows, 1)
	s2 := f.service(authn.Config{})
	assert.Equal(t, 1, f.db.Client.SigningKey.Query().CountX(f.ctx))
	t1, kid1 := f.issue(s1)
	t2, kid2 := f.issue(s2)
	assert.Equal(t, rows[0].Kid, kid1)
	assert.Equal(t, rows[0].Kid, kid2)
	for _, s := range []*authn.Service{s1, s2} {
		for _, tok := range []string{t1, t2} {
			_, err := s.Verify(ctx, tok)
			require.NoError(t, err)
		}
	}
	assert.Equal(t, []string{kid1}, kids(t, s1))

	// A replica that raced the first one made another key, older by its
	// clock: every replica that sees it signs with it.
	pem0, key0 := newKey(t)
	kid0 := thumbprint(t, &key0.PublicKey)
	// (A version 4 id keeps created_at as given: see ent/schema stampFromID.)
	f.db.Client.SigningKey.Create().SetID(uuid.New()).SetKid(kid0).SetPrivateKeyPem(string(pem0)).
		SetCreatedAt(rows[0].CreatedAt.Add(-time.Minute)).ExecX(f.ctx)
	s3 := f.service(authn.Config{})
	t3, kid := f.issue(s3)
	assert.Equal(t, kid0, kid)
	_, err := s2.Verify(ctx, t3) // unknown kid: s2 reloads the keys
	require.NoError(t, err)
	_, kid = f.issue(s2)
	assert.Equal(t, kid0, kid, "s2 now signs with the oldest key")
	assert.Equal(t, []string{kid1}, kids(t, s1), "s1 reloaded less than ten seconds ago")
	f.clock.Advance(10 * time.Second)
	assert.Equal(t, []string{kid0, kid1}, kids(t, s1), "the JWK Set reloads the keys")

	// Reloads on demand happen at most every ten seconds.
	assert.Equal(t, []string{kid0, kid1}, kids(t, s2)) // a reload now
	pem4, key4 := newKey(t)
	kid4 := thumbprint(t, &key4.PublicKey)
	f.db.Client.SigningKey.Create().SetKid(kid4).SetPrivateKeyPem(string(pem4)).ExecX(f.ctx)
	t4, kid := f.issue(f.service(authn.Config{KeyFiles: []string{writeFile(t, pem4)}}))
	require.Equal(t, kid4, kid)
	f.clock.Advance(9 * time.Second)
	_, err = s2.Verify(ctx, t4)
	refused(t, err, authn.CodeInvalidToken, "the access token's signing key is unknown")
	f.clock.Advance(time.Second)
	_, err = s2.Verify(ctx, t4)
	require.NoError(t, err)
	_, kid = f.issue(s2)
	assert.Equal(t, kid0, kid, "a newer key does not sign")
	assert.Equal(t, []string{kid0, kid1, kid4},
		f.db.Client.SigningKey.Query().Order(signingkey.ByCreatedAt()).Select(signingkey.FieldKid).StringsX(f.ctx))
}

func TestGenerateKeyPEM(t *testing.T) {
	a, key := newKey(t)
	b, _ := newKey(t)
	assert.NotEqual(t, a, b)
	assert.Equal(t, elliptic.P256(), key.Curve)
}
