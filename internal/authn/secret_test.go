package authn_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/internal/authn"
)

func TestHashSecret(t *testing.T) {
	h := testHashes()[testSecret]
	// OWASP's minimum argon2id parameters, a 16-byte salt and a 32-byte key.
	parts := strings.Split(h, "$")
	require.Len(t, parts, 6, h)
	assert.Equal(t, []string{"", "argon2id", "v=19", "m=19456,t=2,p=1"}, parts[:4])
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	require.NoError(t, err)
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	require.NoError(t, err)
	assert.Len(t, salt, 16)
	assert.Len(t, key, 32)

	assert.True(t, authn.CheckSecret(testSecret, h))
	assert.False(t, authn.CheckSecret(testSecret+"x", h))
	assert.False(t, authn.CheckSecret("", h))
	assert.False(t, authn.CheckSecret(testSecret, ""), "an empty hash matches nothing")
	assert.False(t, authn.CheckSecret(testSecret, "$argon2id$garbage"))
	assert.False(t, authn.CheckSecret(testPassword, h))

	other, err := authn.HashSecret(testSecret)
	require.NoError(t, err)
	assert.NotEqual(t, h, other, "each hash has its own salt")
	assert.True(t, authn.CheckSecret(testSecret, other))

	_, err = authn.HashSecret("")
	assert.Error(t, err)
}

func TestNewClientSecret(t *testing.T) {
	a, b := authn.NewClientSecret(), authn.NewClientSecret()
	assert.NotEqual(t, a, b)
	assert.Len(t, a, 43)
	raw, err := base64.RawURLEncoding.DecodeString(a)
	require.NoError(t, err)
	assert.Len(t, raw, 32)
}
