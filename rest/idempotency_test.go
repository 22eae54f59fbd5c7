package rest_test

// Idempotency-Key on every door (internal/idempotency): bankingservice.ai,
// Tradevest, OBP and GraphQL mutations, each over the whole HTTP stack and
// a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent/customer"
	"custgraph/internal/access"
	"custgraph/internal/idempotency"
)

// idemDoor is one door's create route, as the tests drive it.
type idemDoor struct {
	name    string
	path    string
	created int                           // the status of a create
	body    func(name string) any         // a create of a customer named name (unique per test)
	token   func(t *testing.T) string     // a new caller allowed to create
	refused func(t *testing.T, res reply) // checks the door's 422 for a reused key
}

func idemDoors(e *env) []idemDoor {
	return []idemDoor{
		{
			name: "bankingservice.ai", path: bsaiPath, created: http.StatusOK,
			body: func(name string) any {
				return map[string]any{"first_name": name, "last_name": "Doe", "email": "john.doe@example.com"}
			},
			token: func(t *testing.T) string { return e.client(t, e.A, allBankRoles(e.A)...) },
			refused: func(t *testing.T, res reply) {
				m := res.object(t)
				assert.EqualValues(t, http.StatusUnprocessableEntity, m["status"])
				assert.Equal(t, "idempotency_key_reused", m["error"])
			},
		},
		{
			name: "Tradevest", path: "/roles/customers", created: http.StatusOK,
			body: func(name string) any {
				return map[string]any{"entityId": uuid.New(), "entityType": "NATURAL_PERSON", "labels": []string{name}}
			},
			token: func(t *testing.T) string { return e.client(t, e.A, allBankRoles(e.A)...) },
			refused: func(t *testing.T, res reply) {
				m := res.object(t)
				assert.Equal(t, "UNPROCESSABLE_ENTITY", m["responseType"])
				assert.Equal(t, idempotency.CodeReused, m["errorCode"])
			},
		},
		{
			name: "OBP", path: obpCustV3 + bankA + "/customers", created: http.StatusCreated,
			body: func(name string) any {
				b := obpCustSeedBody()
				b["legal_name"] = name
				return b
			},
			token: func(t *testing.T) string {
				return e.client(t, e.A, at(e.A, access.CanCreateCustomer, access.CanGetCustomer)...)
			},
			refused: func(t *testing.T, res reply) {
				m := res.object(t)
				assert.EqualValues(t, http.StatusUnprocessableEntity, m["code"])
				assert.True(t, strings.HasPrefix(m["message"].(string), idempotency.CodeReused+": "), "%s", res.body)
			},
		},
		{
			name: "GraphQL", path: "/query", created: http.StatusOK,
			body: func(name string) any {
				return map[string]any{
					"query":     `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id legalName customerNumber } }`,
					"variables": map[string]any{"in": map[string]any{"bankID": e.A.ID, "legalName": name}},
				}
			},
			token: func(t *testing.T) string { return e.client(t, e.A, allBankRoles(e.A)...) },
			refused: func(t *testing.T, res reply) {
				var out struct {
					Errors []struct {
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				res.decode(t, &out)
				require.Len(t, out.Errors, 1, "%s", res.body)
				assert.Equal(t, idempotency.CodeReused, out.Errors[0].Extensions["code"])
			},
		},
	}
}

// idemCount is how many customers carry name: as legal name (a
// bankingservice.ai first name becomes part of it) or as a label
// (Tradevest customers have no name).
func (e *env) idemCount(t *testing.T, name string) int {
	t.Helper()
	n, err := e.db.Client.Customer.Query().Where(customer.LegalNameContains(name)).Count(e.sys)
	require.NoError(t, err)
	all, err := e.db.Client.Customer.Query().All(e.sys)
	require.NoError(t, err)
	for _, c := range all {
		for _, l := range c.Labels {
			if l == name {
				n++
			}
		}
	}
	return n
}

// idemSend sends a request with an Idempotency-Key (none when key is "");
// every REST answer, refusals of the key included, is checked against the
// OpenAPI document.
func (e *env) idemSend(t *testing.T, method, path, tok string, body any, key string) reply {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		b, err = json.Marshal(body)
		require.NoError(t, err)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", tok)
	if key != "" {
		req.Header.Set(idempotency.Header, key)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	rep := reply{status: res.StatusCode, header: res.Header, body: out}
	if isREST(path) {
		checkAgainstOpenAPI(t, req, rep)
	}
	return rep
}

// TestIdempotencyKey checks, on each door: a create retried with the same
// key gets the identical answer and makes one customer; the same key with
// another body is 422 and makes none; two callers may use the same key;
// concurrent requests with one key make one customer; an answer lost
// after the commit is answered on retry; a refused request stores
// nothing; malformed keys are 400.
func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	for _, d := range idemDoors(e) {
		t.Run(d.name, func(t *testing.T) {
			tok := d.token(t)
			name := func() string { return "Idem" + strings.ReplaceAll(uuid.NewString()[:13], "-", "") }

			t.Run("same request twice", func(t *testing.T) {
				n, key := name(), uuid.NewString()
				body, err := json.Marshal(d.body(n))
				require.NoError(t, err)
				first := e.idemSend(t, http.MethodPost, d.path, tok, json.RawMessage(body), key)
				require.Equal(t, d.created, first.status, "%s", first.body)
				second := e.idemSend(t, http.MethodPost, d.path, tok, json.RawMessage(body), key)
				require.Equal(t, first.status, second.status)
				require.Equal(t, string(first.body), string(second.body), "the stored answer")
				require.Equal(t, first.header.Get("Content-Type"), second.header.Get("Content-Type"))
				require.Equal(t, "true", second.header.Get(idempotency.ReplayedHeader))
				require.Equal(t, 1, e.idemCount(t, n), "one customer")

				// The same key with another body: 422, nothing done.
				other := e.idemSend(t, http.MethodPost, d.path, tok, d.body(n+"x"), key)
				require.Equal(t, http.StatusUnprocessableEntity, other.status, "%s", other.body)
				d.refused(t, other)
				require.Equal(t, 0, e.idemCount(t, n+"x"))

				// Another caller with the same key: its own request.
				res := e.idemSend(t, http.MethodPost, d.path, d.token(t), json.RawMessage(body), key)
				if d.name == "Tradevest" { // the entity already is a customer of the bank
					require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
				} else {
					require.Equal(t, d.created, res.status, "%s", res.body)
					require.NotEqual(t, string(first.body), string(res.body))
					require.Equal(t, 2, e.idemCount(t, n), "two callers, two customers")
				}
				n2 := name()
				res = e.idemSend(t, http.MethodPost, d.path, d.token(t), d.body(n2), key)
				require.Equal(t, d.created, res.status, "%s", res.body)
				require.Equal(t, 1, e.idemCount(t, n2))
			})

			t.Run("concurrent", func(t *testing.T) {
				n, key := name(), uuid.NewString()
				body, err := json.Marshal(d.body(n))
				require.NoError(t, err)
				const workers = 8
				out := make([]reply, workers)
				var wg sync.WaitGroup
				for i := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						out[i] = e.idemSend(t, http.MethodPost, d.path, tok, json.RawMessage(body), key)
					}()
				}
				wg.Wait()
				var answer string
				for _, r := range out {
					switch r.status {
					case http.StatusConflict: // the first was still in flight (draft §2.6)
						assert.Equal(t, "1", r.header.Get("Retry-After"))
						assert.Contains(t, strings.ToUpper(string(r.body)), idempotency.CodeInUse)
					case d.created:
						if answer == "" {
							answer = string(r.body)
						}
						assert.Equal(t, answer, string(r.body))
					default:
						t.Errorf("unexpected answer %d: %s", r.status, r.body)
					}
				}
				require.NotEmpty(t, answer, "one request was done")
				require.Equal(t, 1, e.idemCount(t, n), "exactly one customer")
				// The first answer is kept: a retry now gets it.
				again := e.idemSend(t, http.MethodPost, d.path, tok, json.RawMessage(body), key)
				require.Equal(t, answer, string(again.body))
			})

			t.Run("lost answer", func(t *testing.T) {
				n, key := name(), uuid.NewString()
				body, err := json.Marshal(d.body(n))
				require.NoError(t, err)
				// The request is done and committed, but its answer never
				// reaches the client (served into a recorder thrown away).
				req := httptest.NewRequest(http.MethodPost, d.path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", tok)
				req.Header.Set(idempotency.Header, key)
				lost := httptest.NewRecorder()
				e.srv.Config.Handler.ServeHTTP(lost, req)
				require.Equal(t, d.created, lost.Code, "%s", lost.Body)
				require.Equal(t, 1, e.idemCount(t, n))

				retry := e.idemSend(t, http.MethodPost, d.path, tok, json.RawMessage(body), key)
				require.Equal(t, d.created, retry.status, "%s", retry.body)
				require.Equal(t, lost.Body.String(), string(retry.body), "the lost answer, replayed")
				require.Equal(t, "true", retry.header.Get(idempotency.ReplayedHeader))
				require.Equal(t, 1, e.idemCount(t, n), "not done twice")
			})

			t.Run("refused request stores nothing", func(t *testing.T) {
				key := uuid.NewString()
				bad := e.idemSend(t, http.MethodPost, d.path, tok, []byte(`{"legal_name":`), key)
				require.True(t, bad.status == http.StatusBadRequest || d.name == "GraphQL", "%d %s", bad.status, bad.body)
				n := name()
				good := e.idemSend(t, http.MethodPost, d.path, tok, d.body(n), key)
				require.Equal(t, d.created, good.status, "the key is free again: %s", good.body)
				require.Empty(t, good.header.Get(idempotency.ReplayedHeader))
				require.Equal(t, 1, e.idemCount(t, n))
			})

			t.Run("malformed keys", func(t *testing.T) {
				for _, key := range []string{strings.Repeat("k", idempotency.MaxKeyLen+1), "clé", `"a"b"`} {
					n := name()
					res := e.idemSend(t, http.MethodPost, d.path, tok, d.body(n), key)
					require.Equal(t, http.StatusBadRequest, res.status, "%q: %s", key, res.body)
					require.Contains(t, string(res.body), idempotency.Header)
					require.Equal(t, 0, e.idemCount(t, n))
				}
				// The draft's sf-string form names the same key as the bare one.
				n, key := name(), uuid.NewString()
				first := e.idemSend(t, http.MethodPost, d.path, tok, d.body(n), `"`+key+`"`)
				require.Equal(t, d.created, first.status, "%s", first.body)
				other := e.idemSend(t, http.MethodPost, d.path, tok, d.body(n+"y"), key)
				require.Equal(t, http.StatusUnprocessableEntity, other.status, "%s", other.body)
			})
		})
	}
}

// TestIdempotencyKeyGraphQL checks what is GraphQL's own: a query with the
// header (even a malformed one) is simply run; a document of several
// mutations is one request, stored once; the key is scoped to the caller
// and to the mutation's variables.
func TestIdempotencyKeyGraphQL(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)

	q := e.idemSend(t, http.MethodPost, "/query", tok, map[string]any{"query": `{ banks { totalCount } }`}, "clé")
	require.Equal(t, http.StatusOK, q.status, "%s", q.body)
	require.Contains(t, string(q.body), `"totalCount":2`)

	n := "IdemBatch" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	doc := map[string]any{
		"query": fmt.Sprintf(`mutation { a: createCustomer(input: {bankID: %q, legalName: %q}) { id }
			b: createCustomer(input: {bankID: %q, legalName: %q}) { id } }`, e.A.ID, n+"a", e.A.ID, n+"b"),
	}
	key := uuid.NewString()
	before, err := e.db.Client.RequestReplay.Query().Count(e.sys)
	require.NoError(t, err)
	first := e.idemSend(t, http.MethodPost, "/query", tok, doc, key)
	require.Equal(t, http.StatusOK, first.status, "%s", first.body)
	second := e.idemSend(t, http.MethodPost, "/query", tok, doc, key)
	require.Equal(t, string(first.body), string(second.body))
	require.Equal(t, 2, e.idemCount(t, n), "two mutations, done once")
	after, err := e.db.Client.RequestReplay.Query().Count(e.sys)
	require.NoError(t, err)
	require.Equal(t, before+1, after, "one stored answer for the document")

	// A mutation that fails stores nothing and changes nothing.
	fail := map[string]any{"query": fmt.Sprintf(`mutation { a: createCustomer(input: {bankID: %q, legalName: %q}) { id }
		b: createCustomer(input: {bankID: %q, legalName: %q}) { id } }`, e.A.ID, n+"c", uuid.New(), n+"d")}
	key = uuid.NewString()
	res := e.idemSend(t, http.MethodPost, "/query", tok, fail, key)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, string(res.body), `"errors"`)
	require.Equal(t, 0, e.idemCount(t, n+"c"), "the document is one transaction")
	final, err := e.db.Client.RequestReplay.Query().Count(e.sys)
	require.NoError(t, err)
	require.Equal(t, after, final, "a failed mutation stores no answer")
	res = e.idemSend(t, http.MethodPost, "/query", tok, doc, key)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Empty(t, res.header.Get(idempotency.ReplayedHeader), "the key is free: the new document is done")
	require.Equal(t, 4, e.idemCount(t, n))
}

// TestIdempotencyCost measures what a key costs a create
// (CUSTGRAPH_IDEM_BENCH=<creates per mode>; skipped otherwise): the same
// bankingservice.ai and GraphQL creates without a key, with a new key each
// (lookup, purge query, stored answer), and repeated with one key (the
// replay), interleaved in rounds. It logs times, asserts nothing.
func TestIdempotencyCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CUSTGRAPH_IDEM_BENCH"))
	if n <= 0 {
		t.Skip("set CUSTGRAPH_IDEM_BENCH=<creates per mode> to measure")
	}
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	for _, d := range idemDoors(e) {
		if d.name != "bankingservice.ai" && d.name != "GraphQL" {
			continue
		}
		send := func(body []byte, key string) {
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+d.path, bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", tok)
			if key != "" {
				req.Header.Set(idempotency.Header, key)
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			require.Equal(t, d.created, res.StatusCode)
		}
		body, err := json.Marshal(d.body("Cost"))
		require.NoError(t, err)
		replayKey := uuid.NewString()
		send(body, replayKey)
		var plain, keyed, replay time.Duration
		const rounds = 10
		for range rounds {
			start := time.Now()
			for range n / rounds {
				send(body, "")
			}
			plain += time.Since(start)
			start = time.Now()
			for range n / rounds {
				send(body, uuid.NewString())
			}
			keyed += time.Since(start)
			start = time.Now()
			for range n / rounds {
				send(body, replayKey)
			}
			replay += time.Since(start)
		}
		per := func(d time.Duration) time.Duration { return d / time.Duration(n/rounds*rounds) }
		t.Logf("%s: no key %v/create; new key %v/create (%.2fx); replay %v (%.2fx)", d.name,
			per(plain), per(keyed), float64(keyed)/float64(plain), per(replay), float64(replay)/float64(plain))
	}
}
