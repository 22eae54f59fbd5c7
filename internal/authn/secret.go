package authn

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/alexedwards/argon2id"
)

// hashParams are the argon2id parameters of new hashes: OWASP's minimum
// for argon2id (19 MiB of memory, 2 iterations, parallelism 1).
var hashParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// hashSlots bounds the argon2id computations running at once: each takes
// 19 MiB, and a flood of token requests must not take all the memory.
var hashSlots = make(chan struct{}, max(4, runtime.GOMAXPROCS(0)))

// hashing counts the argon2id computations holding or waiting for a slot.
var hashing atomic.Int32

// withSlot runs f while holding one of hashSlots. The last computation to
// finish runs a collection: a collection that ran while a computation held
// its 19 MiB counted them as live, and the next heap goal follows from the
// live heap (five times it at the server's GOGC=400), so without this one
// token request would let the heap grow by some 100 MiB before the next
// collection (README, "Memory and the garbage collector"). The collection
// costs a few milliseconds beside the computation's tens.
func withSlot[T any](f func() T) T {
	hashing.Add(1)
	hashSlots <- struct{}{}
	defer func() {
		<-hashSlots
		if hashing.Add(-1) == 0 {
			runtime.GC()
		}
	}()
	return f()
}

// HashSecret returns the argon2id hash (a PHC string, "$argon2id$…") of a
// client secret or password.
func HashSecret(plain string) (string, error) {
	if plain == "" {
		return "", errors.New("authn: refusing to hash an empty secret")
	}
	type result struct {
		hash string
		err  error
	}
	r := withSlot(func() result {
		h, err := argon2id.CreateHash(plain, hashParams)
		return result{h, err}
	})
	return r.hash, r.err
}

// dummyHash is compared against when there is no real hash to compare
// with, so that an unknown caller costs as much time as a known one.
var dummyHash = sync.OnceValue(func() string {
	h, err := argon2id.CreateHash(NewClientSecret(), hashParams)
	if err != nil {
		panic("authn: hashing the dummy secret: " + err.Error())
	}
	return h
})

// secretChecks counts the calls of CheckSecret, so that tests can tell
// that a refusal spent its hash computation.
var secretChecks atomic.Int64

// CheckSecret reports whether plain is the secret hash was made from, in
// constant time. It reports false for an empty secret, an empty hash (a
// caller without a secret, or an unknown one: pass "") and a malformed
// hash, after spending one hash computation all the same.
func CheckSecret(plain, hash string) bool {
	secretChecks.Add(1)
	return withSlot(func() bool {
		if plain == "" || hash == "" {
			_, _ = argon2id.ComparePasswordAndHash(plain, dummyHash())
			return false
		}
		ok, err := argon2id.ComparePasswordAndHash(plain, hash)
		return err == nil && ok
	})
}

// NewClientSecret returns a new random client secret: 32 random bytes,
// base64url-encoded without padding (43 characters).
func NewClientSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
