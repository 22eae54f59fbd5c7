package authn

import (
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"

	"custgraph/internal/access"
	"custgraph/internal/notify"
)

// Checking a token costs a signature check and two or three SQL statements
// (the caller and its entitlements, and a user's client). cache keeps both
// results per replica, so that in steady state a request is authenticated
// without SQL:
//
//   - verified claims, by the token's SHA-256, until the token expires.
//     Nothing in the database changes them; what the caller may do is
//     checked against the caller entry on every request;
//   - callers (their viewer, credential generation and disabled flag), by
//     who the token names. Every change of a caller, an entitlement or a
//     bank signals notify.Callers in its own transaction (ent/schema's
//     callerSignals); the signal evicts the caller on every replica once the
//     change has committed, so the next request loads it again.
//
// Nothing is served from the caller cache while the hub is unhealthy (on
// PostgreSQL, while the replica's listening connection is down). On SQLite
// (one process) an entry also lives at most localMaxAge, for the changes
// made by another process on the same file (the admin CLI).
type cache struct {
	hub     *notify.Hub
	tokens  *lru.Cache[[sha256.Size]byte, tokenEntry]
	callers *lru.Cache[callerKey, *callerEntry]
	// epoch moves on with every eviction: a caller loaded while it moved
	// may be stale and is not kept. mu makes "epoch unchanged, keep it" and
	// "move epoch on, evict" exclusive.
	mu     sync.Mutex
	epoch  atomic.Uint64
	maxAge time.Duration
	now    func() time.Time
}

// Cache sizes and lifetimes.
const (
	cachedTokens  = 10_000
	cachedCallers = 10_000
	// sharedMaxAge bounds an entry's life when every change is signalled
	// (PostgreSQL): only a safety net.
	sharedMaxAge = 10 * time.Minute
	// localMaxAge bounds it on SQLite, where another process's changes
	// (custgraph admin on the same file) are not signalled.
	localMaxAge = 2 * time.Second
)

// tokenEntry is a verified token's claims.
type tokenEntry struct {
	claims  ownClaims
	expires time.Time
}

// callerKey names a caller as a token does.
type callerKey struct {
	kind     access.Kind
	by       string // "client_id", "id" or "external": what subject is
	subject  string
	consumer string // a user's client_id (azp); "" for none
}

// callerEntry is a caller as loaded from the database.
type callerEntry struct {
	viewer     *access.Viewer // without the request's fields
	generation int            // credential_generation
	disabled   string         // "client" or "user" when that is disabled
	deps       []uuid.UUID    // the caller's id and its consumer's: changes of these evict it
	loaded     time.Time
}

func newCache(hub *notify.Hub, now func() time.Time) *cache {
	tokens, _ := lru.New[[sha256.Size]byte, tokenEntry](cachedTokens)
	callers, _ := lru.New[callerKey, *callerEntry](cachedCallers)
	c := &cache{hub: hub, tokens: tokens, callers: callers, now: now, maxAge: localMaxAge}
	if hub.Shared() {
		c.maxAge = sharedMaxAge
	}
	hub.Subscribe(notify.Callers, c.evict)
	return c
}

// evict forgets the callers a signal concerns (all of them on a Reset).
func (c *cache) evict(e notify.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	if e.Reset || e.Payload == notify.All {
		c.callers.Purge()
		return
	}
	id, err := uuid.Parse(e.Payload)
	if err != nil {
		c.callers.Purge()
		return
	}
	for _, k := range c.callers.Keys() {
		if en, ok := c.callers.Peek(k); ok && slices.Contains(en.deps, id) {
			c.callers.Remove(k)
		}
	}
}

func tokenKey(raw string) [sha256.Size]byte { return sha256.Sum256([]byte(raw)) }

// token returns the cached claims of a token that has not expired.
func (c *cache) token(raw string) (ownClaims, bool) {
	if c == nil {
		return ownClaims{}, false
	}
	e, ok := c.tokens.Get(tokenKey(raw))
	if !ok || !c.now().Before(e.expires) {
		return ownClaims{}, false
	}
	return e.claims, true
}

// keepToken remembers a verified token's claims until it expires.
func (c *cache) keepToken(raw string, claims ownClaims) {
	if c == nil || claims.ExpiresAt == nil {
		return
	}
	c.tokens.Add(tokenKey(raw), tokenEntry{claims: claims, expires: claims.ExpiresAt.Time})
}

// caller returns the cached caller named by k, or calls load and keeps its
// result when nothing evicted callers meanwhile.
func (c *cache) caller(k callerKey, load func() (*callerEntry, error)) (*callerEntry, error) {
	if c == nil {
		return load()
	}
	healthy := c.hub.Healthy()
	if healthy {
		if e, ok := c.callers.Get(k); ok && c.now().Sub(e.loaded) < c.maxAge {
			return e, nil
		}
	}
	epoch := c.epoch.Load()
	e, err := load()
	if err != nil {
		return nil, err
	}
	e.loaded = c.now()
	if healthy {
		c.mu.Lock()
		if c.hub.Healthy() && c.epoch.Load() == epoch {
			c.callers.Add(k, e)
		}
		c.mu.Unlock()
	}
	return e, nil
}
