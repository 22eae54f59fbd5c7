package authn_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent/entitlement"
	"custgraph/internal/access"
	"custgraph/internal/authn"
	"custgraph/internal/notify"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// verifyCounting verifies token with s and returns the viewer (nil when
// refused), the refusal and the number of SQL statements it took.
func verifyCounting(s *authn.Service, token string) (*access.Viewer, error, int64) {
	ctx, n := store.WithCounter(context.Background())
	v, err := s.Verify(ctx, token)
	return v, err, n.N()
}

func TestCachedAuthenticationCostsNoSQL(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{Hub: f.db.Hub})
	bank := f.bank("gh.29.uk")
	cl := f.client("acme-app", &bank)
	f.grant(&cl.ID, nil, access.CanGetCustomer, &bank)
	f.grant(&cl.ID, nil, access.CanCreateCustomer, &bank)
	token, _, err := s.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)

	v, err, n := verifyCounting(s, token)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "the first request loads the client and its entitlements")
	assert.Len(t, v.Grants(), 2)
	for range 3 {
		v, err, n = verifyCounting(s, token)
		require.NoError(t, err)
		assert.Zero(t, n, "later requests are served from the cache")
		assert.Len(t, v.Grants(), 2)
	}

	// A revocation that rolls back changes nothing, and evicts nothing.
	tx, err := f.db.Client.Tx(f.ctx)
	require.NoError(t, err)
	tx.Entitlement.Delete().Where(entitlement.RoleName(string(access.CanCreateCustomer))).ExecX(f.ctx)
	require.NoError(t, tx.Rollback())
	v, err, n = verifyCounting(s, token)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, v.Grants(), 2)

	// A committed revocation applies on the next request.
	f.db.Client.Entitlement.DeleteOneID(entitlementOf(t, f, cl.ID, access.CanCreateCustomer)).ExecX(f.ctx)
	v, err, n = verifyCounting(s, token)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	assert.Equal(t, []access.Grant{{Role: access.CanGetCustomer, Bank: bank}}, v.Grants())

	// So does a new entitlement, in a transaction.
	tx, err = f.db.Client.Tx(f.ctx)
	require.NoError(t, err)
	tx.Entitlement.Create().SetAPIClientID(cl.ID).SetRoleName(string(access.CanDeleteCustomer)).SetBankID(bank).ExecX(f.ctx)
	v, err, _ = verifyCounting(s, token)
	require.NoError(t, err)
	assert.Len(t, v.Grants(), 1, "not before the commit")
	require.NoError(t, tx.Commit())
	v, err, _ = verifyCounting(s, token)
	require.NoError(t, err)
	assert.Len(t, v.Grants(), 2)

	// Disabling the client refuses its tokens at once.
	f.db.Client.APIClient.UpdateOne(cl).SetDisabled(true).ExecX(f.ctx)
	_, err, _ = verifyCounting(s, token)
	refused(t, err, authn.CodeInvalidToken, "the token's client is disabled")
	f.db.Client.APIClient.UpdateOne(cl).SetDisabled(false).ExecX(f.ctx)
	_, err, _ = verifyCounting(s, token)
	require.NoError(t, err)

	// A new secret kills the tokens issued before it.
	cl = f.db.Client.APIClient.UpdateOne(cl).SetSecretHash(testHashes()[testPassword]).SaveX(f.ctx)
	assert.Equal(t, 1, cl.CredentialGeneration)
	_, err, _ = verifyCounting(s, token)
	refused(t, err, authn.CodeInvalidToken, "the access token was revoked: the client's credentials changed")
	fresh, _, err := s.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)
	_, err, _ = verifyCounting(s, fresh)
	require.NoError(t, err)

	// A client deleted and made again under its client_id does not revive
	// its predecessor's tokens.
	f.db.Client.APIClient.DeleteOne(cl).ExecX(f.ctx)
	_, err, _ = verifyCounting(s, fresh)
	refused(t, err, authn.CodeInvalidToken, "the token's client does not exist")
	again := f.client("acme-app", &bank)
	_, err, _ = verifyCounting(s, fresh)
	refused(t, err, authn.CodeInvalidToken, "the token's client does not exist")
	newest, _, err := s.Issue(authn.ClientSubject(again))
	require.NoError(t, err)
	v, err, _ = verifyCounting(s, newest)
	require.NoError(t, err)
	assert.Equal(t, again.ID, v.ID)
}

func TestCachedUserTokens(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{Hub: f.db.Hub})
	bank := f.bank("gh.29.uk")
	consumer := f.client("obp-app", &bank)
	alice := f.user("alice")
	f.grant(nil, &alice.ID, access.CanGetCustomer, &bank)
	token, _, err := s.Issue(authn.UserSubject(alice, "obp-app"))
	require.NoError(t, err)
	v, err, n := verifyCounting(s, token)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n, "the consumer, the user and its entitlements")
	assert.Equal(t, &bank, v.Bank)
	_, err, n = verifyCounting(s, token)
	require.NoError(t, err)
	assert.Zero(t, n)

	// The consumer's changes reach the users who logged in through it.
	f.db.Client.APIClient.UpdateOne(consumer).SetDisabled(true).ExecX(f.ctx)
	_, err, _ = verifyCounting(s, token)
	refused(t, err, authn.CodeInvalidToken, "the token's client is disabled")
	f.db.Client.APIClient.UpdateOne(consumer).SetDisabled(false).ExecX(f.ctx)

	// A new password kills the user's tokens.
	f.db.Client.User.UpdateOne(alice).SetPasswordHash(testHashes()[testSecret]).ExecX(f.ctx)
	_, err, _ = verifyCounting(s, token)
	refused(t, err, authn.CodeInvalidToken, "the access token was revoked: the user's credentials changed")
}

// TestRevocationReachesEveryReplica runs two replicas on one database: a
// change committed through one is signalled to the other, whose cache
// forgets the caller. On SQLite (one process by design) another process's
// changes are seen once an entry is localMaxAge old.
func TestRevocationReachesEveryReplica(t *testing.T) {
	f := newFixture(t)
	a, _, dsn := testdb.OpenDSN(t)
	b, _ := testdb.Reopen(t, dsn)
	newService := func(db *store.DB) *authn.Service {
		s, err := authn.New(t.Context(), db.Client, authn.Config{Hub: db.Hub, Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		return s
	}
	sa, sb := newService(a), newService(b)
	ctx := access.System(context.Background())
	bank := a.Client.Bank.Create().SetCode("gh.29.uk").SetName("Bank").SaveX(ctx)
	cl := a.Client.APIClient.Create().SetClientID("acme-app").SetName("Acme").
		SetSecretHash(testHashes()[testSecret]).SetBankID(bank.ID).SaveX(ctx)
	g := a.Client.Entitlement.Create().SetAPIClientID(cl.ID).SetRoleName(string(access.CanGetCustomer)).SetBankID(bank.ID).SaveX(ctx)
	token, _, err := sa.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)
	for _, s := range []*authn.Service{sa, sb} {
		v, err := s.Verify(ctx, token)
		require.NoError(t, err)
		assert.Len(t, v.Grants(), 1)
	}
	// The set-up's signals reach b asynchronously and may evict what it
	// cached: b caches the caller once they are through.
	eventually(t, "replica b caches the caller", func() bool {
		_, _, n := verifyCounting(sb, token)
		return n == 0
	})

	signals := make(chan notify.Event, 64)
	cancel := b.Hub.Subscribe(notify.Callers, func(e notify.Event) { signals <- e })
	defer cancel()
	a.Client.Entitlement.DeleteOne(g).ExecX(ctx) // through replica a

	if b.Hub.Shared() { // PostgreSQL: b hears of it
		for e := range signals { // (the signals of the set-up may come first)
			if e.Payload == notify.All {
				break
			}
		}
		// The hub calls its subscribers one after the other: the cache's
		// eviction may follow this test's.
		eventually(t, "the revocation applies on replica b", func() bool {
			v, err, n := verifyCounting(sb, token)
			require.NoError(t, err)
			return len(v.Grants()) == 0 && n == 2
		})
		return
	}
	// SQLite: b is another process's view of the file.
	assert.Empty(t, signals)
	v, err, n := verifyCounting(sb, token)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, v.Grants(), 1, "until the entry is two seconds old")
	f.clock.Advance(2 * time.Second)
	v, err, n = verifyCounting(sb, token)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	assert.Empty(t, v.Grants())
}

// TestListenerLossBypassesTheCache: while a replica may miss signals it
// loads every caller.
func TestListenerLossBypassesTheCache(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{Hub: f.db.Hub})
	cl := f.client("acme-app", nil)
	token, _, err := s.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)
	_, _, _ = verifyCounting(s, token)
	_, _, n := verifyCounting(s, token)
	require.Zero(t, n)
	f.db.Hub.Lost()
	_, _, n = verifyCounting(s, token)
	assert.Equal(t, int64(2), n)
	_, _, n = verifyCounting(s, token)
	assert.Equal(t, int64(2), n, "nothing is kept while signals may be missed")
	f.db.Hub.Restored()
	_, _, _ = verifyCounting(s, token)
	_, _, n = verifyCounting(s, token)
	assert.Zero(t, n)
}

// eventually checks cond every 10 ms until it holds, for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10 s: %s", what)
		}
	}
}
