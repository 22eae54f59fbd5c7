package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/bank"
	"custgraph/ent/requestreplay"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
		ok   bool
	}{
		{nil, "", true},
		{[]string{"8e03978e-40d5-43e8-bc93-6894a57f9324"}, "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{[]string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}, "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{[]string{`"a \"b\" \\c"`}, `a "b" \c`, true},
		{[]string{" spaced key "}, "spaced key", true},
		{[]string{strings.Repeat("k", MaxKeyLen)}, strings.Repeat("k", MaxKeyLen), true},
		{[]string{strings.Repeat("k", MaxKeyLen+1)}, "", false},
		{[]string{""}, "", false},
		{[]string{`""`}, "", false},
		{[]string{"clé"}, "", false},
		{[]string{"tab\there"}, "", false},
		{[]string{`"a"b"`}, "", false},
		{[]string{`"a\b"`}, "", false},
		{[]string{"a", "b"}, "", false},
	} {
		got, err := ParseKey(c.in)
		if !c.ok {
			var r *Refusal
			require.ErrorAs(t, err, &r, "%q", c.in)
			require.Equal(t, http.StatusBadRequest, r.Status)
			require.Equal(t, CodeInvalid, r.Code)
			continue
		}
		require.NoError(t, err, "%q", c.in)
		require.Equal(t, c.want, got)
	}
}

// replica is one server's door over a database: its own client and keys
// in flight, serving handler.
type replica struct {
	client *ent.Client
	h      http.Handler
}

func newReplica(client *ent.Client, handler http.HandlerFunc) replica {
	d := Door{
		Client: client, InFlight: NewInFlight(),
		Refuse: func(w http.ResponseWriter, _ *http.Request, e *Refusal) {
			http.Error(w, e.Code, e.Status)
		},
		Fail: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		},
	}
	return replica{client, d.Middleware(handler)}
}

// createBank is a route that creates a bank named by the body in its
// transaction (code: the body's code, or a new one) and answers its id;
// a refused create is 409.
func createBank(client *ent.Client, started chan<- struct{}, proceed <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Code, Name string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in.Code == "" {
			in.Code = "c" + uuid.NewString()[:8]
		}
		if started != nil {
			started <- struct{}{}
			<-proceed
		}
		ctx := r.Context()
		var b *ent.Bank
		err := FromContext(ctx).InTx(ctx, func(tx *ent.Client) (err error) {
			b, err = tx.Bank.Create().SetCode(in.Code).SetName(in.Name).Save(ctx)
			return err
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/banks/"+b.ID.String())
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": b.ID.String()})
	}
}

func post(t *testing.T, ctx context.Context, h http.Handler, key string, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/banks", bytes.NewReader(b))
	req.Header.Set(Header, key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func banksNamed(t *testing.T, ctx context.Context, c *ent.Client, name string) int {
	t.Helper()
	n, err := c.Bank.Query().Where(bank.Name(name)).Count(ctx)
	require.NoError(t, err)
	return n
}

// TestInFlight checks draft §2.6: a request whose key is still in flight
// on the server is refused 409 with Retry-After, and answered the stored
// answer once the first is done.
func TestInFlight(t *testing.T) {
	db, _ := testdb.Open(t)
	ctx := access.System(context.Background())
	started, proceed := make(chan struct{}), make(chan struct{})
	rp := newReplica(db.Client, createBank(db.Client, started, proceed))
	key, body := uuid.NewString(), map[string]string{"name": "in flight"}

	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- post(t, ctx, rp.h, key, body) }()
	<-started
	second := post(t, ctx, rp.h, key, body)
	require.Equal(t, http.StatusConflict, second.Code, "%s", second.Body)
	require.Equal(t, "1", second.Header().Get("Retry-After"))
	require.Contains(t, second.Body.String(), CodeInUse)
	close(proceed)
	first := <-done
	require.Equal(t, http.StatusCreated, first.Code, "%s", first.Body)

	third := post(t, ctx, rp.h, key, body)
	require.Equal(t, http.StatusCreated, third.Code)
	require.Equal(t, first.Body.String(), third.Body.String())
	require.Equal(t, first.Header().Get("Location"), third.Header().Get("Location"), "the headers of the answer are replayed")
	require.Equal(t, "true", third.Header().Get(ReplayedHeader))
	require.Equal(t, 1, banksNamed(t, ctx, db.Client, "in flight"))
}

// TestAcrossReplicas checks that the table, not a server's memory, decides:
// a request that another replica answered while it ran answers that
// answer, and its own work is undone, whether its work succeeded (the
// replay's unique key refuses its answer) or failed because of the
// other's (a unique value taken).
func TestAcrossReplicas(t *testing.T) {
	db, _, dsn := testdb.OpenDSN(t)
	other, _ := testdb.Reopen(t, dsn)
	ctx := access.System(context.Background())
	a := newReplica(db.Client, createBank(db.Client, nil, nil))
	fp := "fingerprint"

	for _, sameCode := range []bool{false, true} {
		t.Run(fmt.Sprintf("same code %v", sameCode), func(t *testing.T) {
			name, key, code := "replicas "+uuid.NewString()[:8], uuid.NewString(), "r"+uuid.NewString()[:8]
			body := map[string]string{"name": name}
			if sameCode {
				body["code"] = code
			}
			// Replica B begins first: nothing is stored yet.
			keys := []Key{IdempotencyKey(Caller(ctx), key)}
			req := httptest.NewRequest(http.MethodPost, "/banks", nil)
			b, err := json.Marshal(body)
			require.NoError(t, err)
			fp = Fingerprint(req, b)
			qb, ans, err := begin(ctx, NewInFlight(), other.Client, keys, fp)
			require.NoError(t, err)
			require.Nil(t, ans)
			defer qb.Close()

			// Replica A serves the same request to the end.
			won := post(t, ctx, a.h, key, body)
			require.Equal(t, http.StatusCreated, won.Code, "%s", won.Body)

			// B's work now.
			c := code
			if !sameCode {
				c = "r" + uuid.NewString()[:8]
			}
			err = qb.InTx(ctx, func(tx *ent.Client) error {
				return tx.Bank.Create().SetCode(c).SetName(name).Exec(ctx)
			})
			if sameCode {
				require.Error(t, err, "A's bank holds the code")
				require.False(t, qb.Changed())
				ans, err = qb.Settled(ctx)
			} else {
				require.NoError(t, err)
				require.True(t, qb.Changed())
				ans, err = qb.Commit(ctx, Answer{Status: http.StatusCreated, Body: []byte(`{"id":"mine"}`)})
			}
			require.NoError(t, err)
			require.NotNil(t, ans, "the winner's answer")
			require.Equal(t, won.Body.String(), string(ans.Body))
			require.Equal(t, http.StatusCreated, ans.Status)
			require.Equal(t, 1, banksNamed(t, ctx, db.Client, name), "B's work is undone")
		})
	}

	t.Run("concurrent", func(t *testing.T) {
		b := newReplica(other.Client, createBank(other.Client, nil, nil))
		name, key := "replicas "+uuid.NewString()[:8], uuid.NewString()
		body := map[string]string{"name": name, "code": "r" + uuid.NewString()[:8]}
		const workers = 8
		out := make([]*httptest.ResponseRecorder, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := a.h
				if i%2 == 1 {
					h = b.h
				}
				out[i] = post(t, ctx, h, key, body)
			}()
		}
		wg.Wait()
		answer := ""
		for _, w := range out {
			switch w.Code {
			case http.StatusConflict:
				assert.Contains(t, w.Body.String(), CodeInUse)
			case http.StatusCreated:
				if answer == "" {
					answer = w.Body.String()
				}
				assert.Equal(t, answer, w.Body.String())
			default:
				t.Errorf("%d %s", w.Code, w.Body)
			}
		}
		require.NotEmpty(t, answer)
		require.Equal(t, 1, banksNamed(t, ctx, db.Client, name))
	})
}

// TestExpired checks that answers older than TTL are not replayed, and
// that each keyed request deletes at most purgeBatch expired answers
// (anyone's) besides its own key's.
func TestExpired(t *testing.T) {
	db, _ := testdb.Open(t)
	ctx := access.System(context.Background())
	rp := newReplica(db.Client, createBank(db.Client, nil, nil))
	// created_at follows the UUIDv7 id (ent): ids of 25 hours ago.
	old := func() uuid.UUID {
		id := uuid.Must(uuid.NewV7())
		ms := time.Now().Add(-TTL - time.Hour).UnixMilli()
		for i := range 6 {
			id[i] = byte(ms >> (8 * (5 - i)))
		}
		return id
	}
	someone := access.NewContext(ctx, access.NewViewer(access.KindClient, uuid.New(), "", nil, nil))
	for range purgeBatch + 4 {
		require.NoError(t, db.Client.RequestReplay.Create().SetID(old()).SetCaller(Caller(someone)).
			SetKey(uuid.NewString()).SetStatus(http.StatusOK).Exec(someone))
	}
	// This caller's own expired answer of a key.
	key, body := uuid.NewString(), map[string]string{"name": "expired"}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	stale := IdempotencyKey(Caller(ctx), key)
	require.NoError(t, db.Client.RequestReplay.Create().SetID(old()).SetCaller(Caller(ctx)).SetKey(stale.id).
		SetFingerprint(Fingerprint(httptest.NewRequest(http.MethodPost, "/banks", nil), b)).
		SetStatus(http.StatusTeapot).Exec(ctx))
	expired := func() int {
		n, err := db.Client.RequestReplay.Query().Where(requestreplay.CreatedAtLT(time.Now().Add(-TTL))).Count(ctx)
		require.NoError(t, err)
		return n
	}
	require.Equal(t, purgeBatch+5, expired())

	first := post(t, ctx, rp.h, key, body)
	require.Equal(t, http.StatusCreated, first.Code, "an expired answer is not replayed: %s", first.Body)
	require.Empty(t, first.Header().Get(ReplayedHeader))
	require.Equal(t, 4, expired(), "its own key's and %d others deleted", purgeBatch)
	again := post(t, ctx, rp.h, key, body)
	require.Equal(t, first.Body.String(), again.Body.String())
	require.Equal(t, 4, expired(), "a replay writes nothing")
	post(t, ctx, rp.h, uuid.NewString(), map[string]string{"name": "expired 2"})
	require.Equal(t, 0, expired())
}
