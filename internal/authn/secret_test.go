package authn_test

import (
	"encoding/base64"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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

// heapGoal is the collector's current heap goal, in bytes.
func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// An argon2id computation holds 19 MiB while it runs. A collection that
// runs meanwhile sees them live and sets the next heap goal from them: at
// the server's GOGC=400 about five times (live + 19 MiB), some 100 MiB more
// than serving needs, which the heap then grows into before the next
// collection. The last computation to finish collects, so the goal goes
// back to what the live data asks for. (Not parallel: a hash of another
// test would hold memory of its own.)
func TestHashDoesNotRaiseTheHeapGoal(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	h := testHashes()[testSecret]
	runtime.GC()
	before := heapGoal()
	for range 3 {
		assert.True(t, authn.CheckSecret(testSecret, h))
		_, err := authn.HashSecret(testSecret)
		require.NoError(t, err)
		// 19 MiB is what one computation allocates; the goal may move by
		// what else ran meanwhile, far less.
		assert.Less(t, heapGoal(), before+8<<20, "heap goal after a hash (before: %d bytes)", before)
	}
}
