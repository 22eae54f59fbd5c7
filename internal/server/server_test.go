package server_test

// End-to-end tests of custgraph's HTTP surface: server.New behind
// httptest.NewServer over a real database (a SQLite file, or a fresh
// PostgreSQL database when TEST_DATABASE_URL is set; see internal/testdb).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/server"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// Limits used by testConfig; the queries of TestLimits are built around them.
const (
	testMaxBody       = 2048
	testMaxDepth      = 6
	testMaxAliases    = 3
	testMaxComplexity = 400
)

func testConfig() server.Config {
	return server.Config{
		GraphQL: graph.Options{
			Limits:       graph.Limits{MaxDepth: testMaxDepth, MaxAliases: testMaxAliases, MaxComplexity: testMaxComplexity},
			MaxBodyBytes: testMaxBody,
		},
		CORSOrigins: []string{"https://dash.example"},
		Logger:      slog.New(slog.DiscardHandler),
	}
}

// env is one server over one fresh database.
type env struct {
	srv        *httptest.Server
	db         *store.DB
	statements *atomic.Int64
}

func newEnv(t *testing.T, cfg server.Config) *env {
	t.Helper()
	db, statements := testdb.Open(t)
	return serve(t, db, statements, cfg)
}

// serve starts a server over an already open database.
func serve(t *testing.T, db *store.DB, statements *atomic.Int64, cfg server.Config) *env {
	t.Helper()
	h := server.New(db, statements, cfg)
	if cfg.Auth == nil {
		// The transport tests act as custgraph itself; auth_test.go covers
		// the real way in (tokens).
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(access.System(r.Context())))
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, db: db, statements: statements}
}

// gqlError is one entry of a GraphQL response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// gqlResponse is a GraphQL response body.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// hasData reports whether the response carries a non-null data member.
func (r gqlResponse) hasData() bool { return len(r.Data) > 0 && string(r.Data) != "null" }

// reply is a finished HTTP exchange.
type reply struct {
	status int
	header http.Header
	body   []byte
	close  bool // the answer said "Connection: close" (net/http removes that header)
}

func (r reply) mediaType(t *testing.T) string {
	t.Helper()
	mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	require.NoError(t, err, "Content-Type %q", r.header.Get("Content-Type"))
	return mt
}

// gql decodes the body as a GraphQL response; the body must be JSON.
func (r reply) gql(t *testing.T) gqlResponse {
	t.Helper()
	var g gqlResponse
	require.NoError(t, json.Unmarshal(r.body, &g), "body is not a GraphQL JSON response: %s", r.body)
	return g
}

// onlyError asserts that the response is exactly one error with this code
// and no data, and returns it.
func (r reply) onlyError(t *testing.T, code string) gqlError {
	t.Helper()
	g := r.gql(t)
	require.False(t, g.hasData(), "want no data: %s", r.body)
	require.Len(t, g.Errors, 1, "want one error: %s", r.body)
	require.Equal(t, code, g.Errors[0].Extensions["code"], "extensions.code: %s", r.body)
	return g.Errors[0]
}

func (e *env) url(path string) string { return e.srv.URL + path }

func (e *env) do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: body, close: resp.Close}
}

func (e *env) request(t *testing.T, method, path, contentType string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, e.url(path), body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// params is a GraphQL request body.
type params struct {
	Query      string         `json:"query,omitempty"`
	Variables  map[string]any `json:"variables,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func (e *env) post(t *testing.T, p params) reply {
	t.Helper()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return e.do(t, e.request(t, http.MethodPost, "/query", "application/json", bytes.NewReader(b)))
}

func (e *env) get(t *testing.T, path string) reply {
	t.Helper()
	return e.do(t, e.request(t, http.MethodGet, path, "", nil))
}

// query posts a GraphQL operation that must succeed and decodes its data.
func (e *env) query(t *testing.T, q string, vars map[string]any, data any) {
	t.Helper()
	r := e.post(t, params{Query: q, Variables: vars})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	g := r.gql(t)
	require.Empty(t, g.Errors, "%s", r.body)
	require.NoError(t, json.Unmarshal(g.Data, data), "%s", r.body)
}

func (e *env) bankCount(t *testing.T) int {
	t.Helper()
	var d struct {
		Banks struct{ TotalCount int } `json:"banks"`
	}
	e.query(t, `{ banks { totalCount } }`, nil, &d)
	return d.Banks.TotalCount
}

// createBank is the mutation the write-refusal tests try to sneak through.
const createBank = `mutation { createBank(input: {code: "x", name: "y"}) { id } }`

// noWrites runs f and asserts that it sent no SQL statement and that the
// database still has no bank.
func (e *env) noWrites(t *testing.T, f func()) {
	t.Helper()
	before := e.statements.Load()
	f()
	require.Equal(t, before, e.statements.Load(), "SQL statements sent")
	require.Zero(t, e.bankCount(t), "banks")
}

func TestTransports(t *testing.T) {
	e := newEnv(t, testConfig())

	t.Run("POST application/json", func(t *testing.T) {
		r := e.post(t, params{Query: `{ banks { totalCount } }`})
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, "application/json", r.mediaType(t))
		require.JSONEq(t, `{"data":{"banks":{"totalCount":0}}}`, string(r.body))
	})

	t.Run("POST accepting application/graphql-response+json", func(t *testing.T) {
		req := e.request(t, http.MethodPost, "/query", "application/json",
			strings.NewReader(`{"query":"{ banks { totalCount } }"}`))
		req.Header.Set("Accept", "application/graphql-response+json")
		r := e.do(t, req)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, "application/graphql-response+json", r.mediaType(t))
		require.JSONEq(t, `{"data":{"banks":{"totalCount":0}}}`, string(r.body))
	})

	t.Run("POST on /graphql", func(t *testing.T) {
		r := e.do(t, e.request(t, http.MethodPost, "/graphql", "application/json",
			strings.NewReader(`{"query":"{ banks { totalCount } }"}`)))
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.JSONEq(t, `{"data":{"banks":{"totalCount":0}}}`, string(r.body))
	})

	t.Run("GET query", func(t *testing.T) {
		r := e.get(t, "/query?query="+url.QueryEscape(`{banks{totalCount}}`))
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, "application/json", r.mediaType(t))
		require.JSONEq(t, `{"data":{"banks":{"totalCount":0}}}`, string(r.body))
	})

	t.Run("answers announce their length", func(t *testing.T) {
		// (net/http announces a short answer's length by itself: these are longer)
		long := ` __type(name: "Customer") { fields { name description type { name kind } } }`
		for _, q := range []string{
			`{ banks { totalCount }` + long + ` }`,         // data alone: written without a copy
			`{ node(id: "not-an-id") { id }` + long + ` }`, // data and errors
			`{ __schema { types { name description } } }`,  // introspection (kept)
			`{ __schema { types { name description } } }`,  // the kept answer, written again
		} {
			r := e.post(t, params{Query: q})
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			require.Greater(t, len(r.body), 3000)
			require.Equal(t, strconv.Itoa(len(r.body)), r.header.Get("Content-Length"), "%s", r.body)
			require.True(t, json.Valid(r.body), "%s", r.body)
		}
	})

	t.Run("GET mutation is 405", func(t *testing.T) {
		e.noWrites(t, func() {
			r := e.get(t, "/query?query="+url.QueryEscape(createBank))
			require.Equal(t, http.StatusMethodNotAllowed, r.status, "%s", r.body)
			require.Equal(t, "POST", r.header.Get("Allow"))
			require.Equal(t, "application/json", r.mediaType(t))
			r.onlyError(t, "METHOD_NOT_ALLOWED")
		})
	})

	t.Run("HEAD mutation is 405", func(t *testing.T) { // (HEAD is GET without its body)
		e.noWrites(t, func() {
			r := e.do(t, e.request(t, http.MethodHead, "/query?query="+url.QueryEscape(createBank), "", nil))
			require.Equal(t, http.StatusMethodNotAllowed, r.status)
			require.Equal(t, "POST", r.header.Get("Allow"))
			require.Empty(t, r.body)
		})
	})

	t.Run("GET mutation chosen by operationName is 405", func(t *testing.T) {
		q := `query Q { banks { totalCount } } ` + strings.Replace(createBank, "mutation", "mutation M", 1)
		e.noWrites(t, func() {
			r := e.get(t, "/query?operationName=M&query="+url.QueryEscape(q))
			require.Equal(t, http.StatusMethodNotAllowed, r.status, "%s", r.body)
			r.onlyError(t, "METHOD_NOT_ALLOWED")
		})
	})

	// A mutation kept by its hash (automatic persisted queries), then asked
	// for over GET by the hash alone: the GET carries no query text, and
	// is still refused (the operation is known only once the hash is
	// looked up).
	t.Run("GET mutation by its persisted hash is 405", func(t *testing.T) {
		e := newEnv(t, testConfig()) // (its bank would break the others' noWrites)
		const m = `mutation($c: String!) { createBank(input: {code: $c, name: "y"}) { id } }`
		sum := sha256.Sum256([]byte(m))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		r := e.post(t, params{Query: m, Extensions: ext, Variables: map[string]any{"c": "apq-post"}})
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.NotContains(t, string(r.body), "errors")
		extJSON, _ := json.Marshal(ext)
		r = e.get(t, "/query?"+url.Values{"extensions": {string(extJSON)}, "variables": {`{"c":"apq-get"}`}}.Encode())
		require.Equal(t, http.StatusMethodNotAllowed, r.status, "%s", r.body)
		require.Equal(t, "POST", r.header.Get("Allow"))
		r.onlyError(t, "METHOD_NOT_ALLOWED")
		require.Equal(t, 1, e.bankCount(t), "banks: the POST's only")
	})

	t.Run("PUT is 405", func(t *testing.T) {
		e.noWrites(t, func() {
			r := e.do(t, e.request(t, http.MethodPut, "/query", "application/json",
				strings.NewReader(`{"query":`+jsonString(createBank)+`}`)))
			require.Equal(t, http.StatusMethodNotAllowed, r.status, "%s", r.body)
			require.Equal(t, "GET, HEAD, POST, OPTIONS", r.header.Get("Allow"))
			r.onlyError(t, "METHOD_NOT_ALLOWED")
		})
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestUnsupportedMediaTypes: the content types a browser form can send
// without a CORS preflight are refused before anything runs (no CSRF).
func TestUnsupportedMediaTypes(t *testing.T) {
	e := newEnv(t, testConfig())
	form := url.Values{"query": {createBank}}.Encode()
	for _, tc := range []struct{ contentType, body string }{
		{"application/x-www-form-urlencoded", form},
		{"multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n" +
			createBank + "\r\n--xyz--\r\n"},
		{"text/plain", `{"query":` + jsonString(createBank) + `}`},
		{"text/plain; charset=utf-8", `{"query":` + jsonString(createBank) + `}`},
		{"", `{"query":` + jsonString(createBank) + `}`},
		{"application/graphql", createBank},
		// JSON, but a parameter that does not parse: gqlgen's transport
		// refuses it, which answered 400 text/plain.
		{"application/json; charset", `{"query":` + jsonString(createBank) + `}`},
		{"application/json;;;", `{"query":` + jsonString(createBank) + `}`},
		{"application/json; =x", `{"query":` + jsonString(createBank) + `}`},
	} {
		t.Run(tc.contentType, func(t *testing.T) {
			e.noWrites(t, func() {
				r := e.do(t, e.request(t, http.MethodPost, "/query", tc.contentType, strings.NewReader(tc.body)))
				require.Equal(t, http.StatusUnsupportedMediaType, r.status, "%s", r.body)
				require.Equal(t, "application/json", r.mediaType(t))
				r.onlyError(t, "UNSUPPORTED_MEDIA_TYPE")
			})
		})
	}
}

// padded is a JSON request body of exactly n bytes running query, padded
// with a GraphQL comment.
func padded(t *testing.T, query string, n int) []byte {
	t.Helper()
	b, err := json.Marshal(params{Query: query + "\n#"})
	require.NoError(t, err)
	require.LessOrEqual(t, len(b), n)
	b, err = json.Marshal(params{Query: query + "\n#" + strings.Repeat("a", n-len(b))})
	require.NoError(t, err)
	require.Len(t, b, n)
	return b
}

// onlyReader hides the Len of bytes.Reader, so the client cannot send a
// Content-Length and sends the body chunked.
type onlyReader struct{ io.Reader }

// TestBodyLimit: a body above MaxBodyBytes is refused with 413 whether its
// size is announced (Content-Length) or not (chunked), before anything runs.
func TestBodyLimit(t *testing.T) {
	e := newEnv(t, testConfig())
	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
	}{
		{"at the limit", testMaxBody, false},
		{"at the limit, chunked", testMaxBody, true},
		{"above the limit", testMaxBody + 1, false},
		{"above the limit, chunked", testMaxBody + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rd io.Reader = bytes.NewReader(padded(t, createBank, tc.size))
			if tc.chunked {
				rd = onlyReader{rd}
			}
			req := e.request(t, http.MethodPost, "/query", "application/json", rd)
			if tc.chunked {
				require.Zero(t, req.ContentLength) // unknown: sent chunked
			} else {
				require.EqualValues(t, tc.size, req.ContentLength)
			}
			if tc.size <= testMaxBody {
				r := e.do(t, req)
				require.Equal(t, http.StatusOK, r.status, "%s", r.body)
				var d struct{ CreateBank struct{ ID string } }
				require.NoError(t, json.Unmarshal(r.gql(t).Data, &d), "%s", r.body)
				require.NotEmpty(t, d.CreateBank.ID, "%s", r.body)
				e.query(t, `mutation($id: ID!) { deleteBank(id: $id) }`, map[string]any{"id": d.CreateBank.ID}, new(any))
				return
			}
			e.noWrites(t, func() {
				r := e.do(t, req)
				require.Equal(t, http.StatusRequestEntityTooLarge, r.status, "%s", r.body)
				require.Equal(t, "application/json", r.mediaType(t))
				r.onlyError(t, "REQUEST_TOO_LARGE")
			})
		})
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, testConfig())
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
		code  string
		field string // extensions.field, when the error is about one
	}{
		{name: "depth", code: "QUERY_TOO_DEEP",
			query: `{ banks { edges { node { customers { edges { node { id } } } } } } }`},
		{name: "aliases", code: "TOO_MANY_ALIASES",
			query: `{ a: banks { totalCount } b: banks { totalCount } c: banks { totalCount } d: banks { totalCount } }`},
		{name: "complexity", code: "COMPLEXITY_LIMIT_EXCEEDED",
			query: `{ banks(first: 100) { edges { node { id code name } } } }`},
		{name: "first above the maximum", code: "BAD_USER_INPUT", field: "first",
			query: `{ banks(first: 101) { totalCount } }`},
		{name: "negative last", code: "BAD_USER_INPUT", field: "last",
			query: `{ banks(last: -1) { totalCount } }`},
		{name: "first above the maximum in a variable", code: "BAD_USER_INPUT", field: "first",
			query: `query($n: Int) { banks(first: $n) { totalCount } }`, vars: map[string]any{"n": 101}},
		{name: "nested first above the maximum", code: "BAD_USER_INPUT", field: "first",
			query: `{ banks(first: 1) { edges { node { customers(first: 1000) { totalCount } } } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.statements.Load()
			r := e.post(t, params{Query: tc.query, Variables: tc.vars})
			require.Equal(t, before, e.statements.Load(), "refused operations must not reach the database")
			require.Equal(t, http.StatusOK, r.status, "a request error, as application/json: %s", r.body)
			err := r.onlyError(t, tc.code)
			if tc.field != "" {
				require.Equal(t, tc.field, err.Extensions["field"], "%s", r.body)
			}
		})
	}

	t.Run("within the limits", func(t *testing.T) {
		var d struct {
			A, B, C struct{ TotalCount int }
		}
		e.query(t, `{ a: banks(first: 100) { totalCount } b: banks(last: 0) { totalCount } c: banks { edges { node { id } } } }`, nil, &d)
	})
}

// TestBadRequests follows GraphQL-over-HTTP: parameters of the wrong type
// are 400 whatever the client accepts; a request error (parse, validation,
// variable coercion: nothing executed) has no data entry and is 200 as
// application/json, 400 as application/graphql-response+json, and so is a
// refusal by a limit or of an input checked before execution (Apollo
// Client 3 drops the errors of any answer that is not 200); a field error
// (a malformed id: the resolver ran) is 200 with data.
func TestBadRequests(t *testing.T) {
	e := newEnv(t, testConfig())
	const (
		json200 = http.StatusOK // status when the client accepts application/json
		both400 = -1            // 400 whatever the client accepts
	)
	for _, tc := range []struct {
		name   string
		body   string
		status int // for application/json; application/graphql-response+json gets 400 unless data is set
		code   string
		data   string // the data member expected next to the error, if any
		path   []any
	}{
		{name: "malformed JSON", body: `{"query": "{ banks { totalCount } }"`, status: both400, code: "BAD_REQUEST"},
		{name: "not an object", body: `[1, 2]`, status: both400, code: "BAD_REQUEST"},
		{name: "two objects", body: `{"query": "{ banks { totalCount } }"} {}`, status: both400, code: "BAD_REQUEST"},
		{name: "empty body", body: ``, status: both400, code: "BAD_REQUEST"},
		{name: "no query", body: `{}`, status: both400, code: "BAD_REQUEST"},
		{name: "misspelt query", body: `{"qeury": "{ banks { totalCount } }"}`, status: both400, code: "BAD_REQUEST"},
		{name: "query not a string", body: `{"query": {"banks": true}}`, status: both400, code: "BAD_REQUEST"},
		{name: "operationName not a string", body: `{"query": "{ banks { totalCount } }", "operationName": 1}`, status: both400, code: "BAD_REQUEST"},
		{name: "variables not an object", body: `{"query": "{ banks { totalCount } }", "variables": "{}"}`, status: both400, code: "BAD_REQUEST"},
		{name: "extensions not an object", body: `{"query": "{ banks { totalCount } }", "extensions": ["x"]}`, status: both400, code: "BAD_REQUEST"},
		{name: "syntax error", body: `{"query": "{ banks { "}`, status: json200, code: "GRAPHQL_PARSE_FAILED"},
		{name: "unknown field", body: `{"query": "{ banks { nope } }"}`, status: json200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown operation", body: `{"query": "query A { banks { totalCount } }", "operationName": "B"}`, status: json200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable of the wrong type", body: `{"query": "query($n: Int) { banks(first: $n) { totalCount } }", "variables": {"n": "ten"}}`,
			status: json200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "required variable null", body: `{"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": null}}`,
			status: json200, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "a page size above the limit", body: `{"query": "{ banks(first: 101) { totalCount } }"}`, status: json200, code: "BAD_USER_INPUT"},
		{name: "a limit", body: `{"query": "{ a: banks { totalCount } b: banks { totalCount } c: banks { totalCount } d: banks { totalCount } }"}`,
			status: json200, code: "TOO_MANY_ALIASES"},
		// A malformed id is a field error: node is nullable, so data.node is null.
		{name: "malformed UUID", body: `{"query": "{ node(id: \"nope\") { id } }"}`,
			status: http.StatusOK, code: "BAD_USER_INPUT", data: `{"node": null}`, path: []any{"node", "id"}},
		{name: "malformed UUID in a variable", body: `{"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": "nope"}}`,
			status: http.StatusOK, code: "BAD_USER_INPUT", data: `{"node": null}`, path: []any{"node", "id"}},
	} {
		for _, accept := range []string{"", "application/json", "*/*", "application/graphql-response+json", "application/graphql-response+json, application/json;q=0.9"} {
			t.Run(tc.name+"/accept "+accept, func(t *testing.T) {
				req := e.request(t, http.MethodPost, "/query", "application/json", strings.NewReader(tc.body))
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				r := e.do(t, req)
				media, status := "application/json", tc.status
				if strings.HasPrefix(accept, "application/graphql-response+json") {
					media = "application/graphql-response+json"
					if tc.data == "" {
						status = http.StatusBadRequest
					}
				}
				if status == both400 {
					status = http.StatusBadRequest
				}
				require.Equal(t, status, r.status, "%s", r.body)
				require.Equal(t, media, r.mediaType(t))
				g := r.gql(t)
				require.Len(t, g.Errors, 1, "%s", r.body)
				require.Equal(t, tc.code, g.Errors[0].Extensions["code"], "%s", r.body)
				if tc.data == "" {
					require.Nil(t, g.Data, "a request error has no data entry: %s", r.body)
				} else {
					require.JSONEq(t, tc.data, string(g.Data))
					require.Equal(t, tc.path, g.Errors[0].Path)
				}
			})
		}
	}

	t.Run("GET with variables that are not JSON", func(t *testing.T) {
		r := e.get(t, "/query?query="+url.QueryEscape(`query($n: Int) { banks(first: $n) { totalCount } }`)+"&variables=%7Bnope")
		require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
		r.onlyError(t, "BAD_REQUEST")
	})
	t.Run("GET with variables", func(t *testing.T) {
		r := e.get(t, "/query?query="+url.QueryEscape(`query($n: Int) { banks(first: $n) { totalCount } }`)+"&variables="+url.QueryEscape(`{"n": 1}`))
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.JSONEq(t, `{"data":{"banks":{"totalCount":0}}}`, string(r.body))
	})
	t.Run("an Accept header without a JSON type is 406", func(t *testing.T) {
		req := e.request(t, http.MethodPost, "/query", "application/json", strings.NewReader(`{"query": "{ banks { totalCount } }"}`))
		req.Header.Set("Accept", "application/xml, text/html;q=0.5, application/json;q=0")
		r := e.do(t, req)
		require.Equal(t, http.StatusNotAcceptable, r.status, "%s", r.body)
		r.onlyError(t, "NOT_ACCEPTABLE")
	})
}

func TestRequestTimeout(t *testing.T) {
	db, statements := testdb.Open(t)
	cfg := testConfig()
	cfg.RequestTimeout = 1 // nanosecond: expired before the first statement
	slow := serve(t, db, statements, cfg)
	healthy := serve(t, db, statements, testConfig())

	for _, tc := range []struct{ name, query string }{
		{"query", `{ banks { totalCount } }`},
		{"mutation", createBank},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := slow.post(t, params{Query: tc.query})
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			require.Equal(t, "application/json", r.mediaType(t))
			err := r.onlyError(t, "TIMEOUT")
			require.NotContains(t, err.Message, "context deadline")
		})
	}

	t.Run("server and database stay healthy", func(t *testing.T) {
		r := slow.get(t, "/healthz")
		require.Equal(t, http.StatusOK, r.status)
		r = slow.get(t, "/readyz")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Zero(t, healthy.bankCount(t))
		var d struct{ CreateBank struct{ ID string } }
		healthy.query(t, `mutation { createBank(input: {code: "ok", name: "OK"}) { id } }`, nil, &d)
		require.NotEmpty(t, d.CreateBank.ID)
		require.Equal(t, 1, healthy.bankCount(t))
	})
}

func TestProbesAndMetrics(t *testing.T) {
	e := newEnv(t, testConfig())

	t.Run("healthz", func(t *testing.T) {
		r := e.get(t, "/healthz")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "ok\n", string(r.body))
	})

	t.Run("readyz", func(t *testing.T) {
		r := e.get(t, "/readyz")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "ready\n", string(r.body))
	})

	t.Run("readyz with the database closed", func(t *testing.T) {
		closed := newEnv(t, testConfig())
		require.Equal(t, http.StatusOK, closed.get(t, "/readyz").status)
		require.NoError(t, closed.db.SQL.Close())
		r := closed.get(t, "/readyz")
		require.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
		require.Equal(t, http.StatusOK, closed.get(t, "/healthz").status, "liveness does not depend on the database")
	})

	t.Run("readyz while draining", func(t *testing.T) {
		cfg := testConfig()
		cfg.Draining = new(atomic.Bool)
		d := newEnv(t, cfg)
		require.Equal(t, http.StatusOK, d.get(t, "/readyz").status)
		require.False(t, d.post(t, params{Query: `{ banks { totalCount } }`}).close, "keep-alive before draining")
		cfg.Draining.Store(true)
		r := d.get(t, "/readyz")
		require.Equal(t, http.StatusServiceUnavailable, r.status, "load balancers stop routing")
		require.True(t, r.close, "Connection: close")
		require.Equal(t, http.StatusOK, d.get(t, "/healthz").status)
		require.Equal(t, 0, d.bankCount(t), "requests are still served while draining")
		q := d.post(t, params{Query: `{ banks { totalCount } }`})
		require.Equal(t, http.StatusOK, q.status, "%s", q.body)
		require.True(t, q.close, "Connection: close: clients leave their keep-alive connections one answer at a time")
	})

	t.Run("metrics", func(t *testing.T) {
		e.bankCount(t) // at least one statement and one GraphQL request
		r := e.get(t, "/metrics")
		require.Equal(t, http.StatusOK, r.status)
		m := regexp.MustCompile(`(?m)^custgraph_sql_statements_total (\d+)`).FindSubmatch(r.body)
		require.NotNil(t, m, "custgraph_sql_statements_total missing:\n%s", r.body)
		require.NotEqual(t, "0", string(m[1]))
		require.Contains(t, string(r.body), `custgraph_http_request_duration_seconds_count{method="POST",route="/query",status="200"}`)
	})
}

func TestCORS(t *testing.T) {
	e := newEnv(t, testConfig())
	for _, tc := range []struct {
		origin  string
		allowed bool
	}{
		{"https://dash.example", true},
		{"https://evil.example", false},
		{"http://dash.example", false},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			req := e.request(t, http.MethodOptions, "/query", "", nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type")
			r := e.do(t, req)
			require.Less(t, r.status, 300, "preflight status")
			if !tc.allowed {
				require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
				return
			}
			require.Equal(t, tc.origin, r.header.Get("Access-Control-Allow-Origin"))
			require.Contains(t, r.header.Get("Access-Control-Allow-Methods"), "POST")
			require.Contains(t, strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "content-type")

			// The actual request is allowed too, and may read the request id.
			post := e.request(t, http.MethodPost, "/query", "application/json",
				strings.NewReader(`{"query":"{ banks { totalCount } }"}`))
			post.Header.Set("Origin", tc.origin)
			r = e.do(t, post)
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, tc.origin, r.header.Get("Access-Control-Allow-Origin"))
			require.Contains(t, r.header.Get("Access-Control-Expose-Headers"), "X-Request-Id")

			// The REST routes' methods and the Requestor-ID header pass too.
			pre := e.request(t, http.MethodOptions, "/roles/customers/0190a1b2-0000-7000-8000-000000000000", "", nil)
			pre.Header.Set("Origin", tc.origin)
			pre.Header.Set("Access-Control-Request-Method", "PATCH")
			pre.Header.Set("Access-Control-Request-Headers", "content-type, requestor-id")
			r = e.do(t, pre)
			require.Less(t, r.status, 300, "preflight status")
			require.Contains(t, r.header.Get("Access-Control-Allow-Methods"), "PATCH")
			require.Contains(t, strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "requestor-id")
		})
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	e := newEnv(t, testConfig())
	const q = `{ banks { totalCount } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}

	r := e.post(t, params{Extensions: ext})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	err := r.onlyError(t, "PERSISTED_QUERY_NOT_FOUND")
	require.Equal(t, "PersistedQueryNotFound", err.Message)

	for _, p := range []params{{Query: q, Extensions: ext}, {Extensions: ext}} {
		r = e.post(t, p)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.JSONEq(t, `{"data":{"banks":{"totalCount":0}}}`, string(r.body))
	}

	t.Run("hash mismatch", func(t *testing.T) {
		r := e.post(t, params{Query: `{ banks { edges { node { id } } } }`, Extensions: ext})
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		r.onlyError(t, "BAD_REQUEST")
	})

	// A query longer than graph.MaxCachedQueryBytes (padded with a comment,
	// as an attacker would, to fill the caches with few requests) is
	// answered but not kept: asking by its hash alone finds nothing. One
	// just within the bound is kept.
	t.Run("long queries are not kept", func(t *testing.T) {
		cfg := testConfig()
		cfg.GraphQL.MaxBodyBytes = 0 // the default, 1 MiB
		e := newEnv(t, cfg)
		for _, c := range []struct {
			size int
			kept bool
		}{{graph.MaxCachedQueryBytes - 64, true}, {graph.MaxCachedQueryBytes + 1, false}} {
			q := `{ __typename } #`
			q += strings.Repeat("x", c.size-len(q))
			sum := sha256.Sum256([]byte(q))
			ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
			r := e.post(t, params{Query: q, Extensions: ext})
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			require.JSONEq(t, `{"data":{"__typename":"Query"}}`, string(r.body))
			r = e.post(t, params{Extensions: ext})
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			if c.kept {
				require.JSONEq(t, `{"data":{"__typename":"Query"}}`, string(r.body), "%d bytes", c.size)
			} else {
				r.onlyError(t, "PERSISTED_QUERY_NOT_FOUND")
			}
		}
	})
}

func TestGraphiQL(t *testing.T) {
	e := newEnv(t, testConfig())
	for _, path := range []string{"/", "/graphiql"} {
		t.Run(path, func(t *testing.T) {
			r := e.get(t, path)
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, "text/html", r.mediaType(t))
			page := string(r.body)
			require.Contains(t, strings.ToLower(page), "graphiql")
			for _, m := range regexp.MustCompile(`(?i)<script\b[^>]*\bsrc="([^"]*)"`).FindAllStringSubmatch(page, -1) {
				require.NotRegexp(t, `^(?i)(https?:)?//`, m[1], "external script")
				asset := e.get(t, m[1])
				require.Equal(t, http.StatusOK, asset.status, "script %s", m[1])
			}
			require.NotRegexp(t, `(?i)<script\b[^>]*\bsrc="(https?:)?//`, page)
		})
	}
}

// TestMutationErrorsDoNotLeakSQL: a unique violation is a CONFLICT on the
// GraphQL field, worded for clients, and the transaction is rolled back.
func TestMutationErrorsDoNotLeakSQL(t *testing.T) {
	e := newEnv(t, testConfig())
	const m = `mutation($code: String!) { createBank(input: {code: $code, name: "Bank"}) { id code } }`
	var d struct{ CreateBank struct{ ID, Code string } }
	e.query(t, m, map[string]any{"code": "gh.29.uk"}, &d)
	require.Equal(t, "gh.29.uk", d.CreateBank.Code)

	r := e.post(t, params{Query: m, Variables: map[string]any{"code": "gh.29.uk"}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	err := r.onlyError(t, "CONFLICT")
	require.Equal(t, "code", err.Extensions["field"])
	require.Equal(t, []any{"createBank"}, err.Path)
	for _, leak := range []string{"UNIQUE", "constraint", "SQL", "pq:", "sqlite", "duplicate", "banks"} {
		require.NotContains(t, strings.ToLower(err.Message), strings.ToLower(leak), "message %q", err.Message)
	}
	require.Equal(t, 1, e.bankCount(t))
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, testConfig())
	for _, path := range []string{"/query?query=" + url.QueryEscape("{banks{totalCount}}"), "/healthz", "/nope"} {
		t.Run(path, func(t *testing.T) {
			a, b := e.get(t, path), e.get(t, path)
			require.NotEmpty(t, a.header.Get("X-Request-Id"))
			require.NotEqual(t, a.header.Get("X-Request-Id"), b.header.Get("X-Request-Id"))
		})
	}

	t.Run("client id is echoed", func(t *testing.T) {
		req := e.request(t, http.MethodGet, "/healthz", "", nil)
		req.Header.Set("X-Request-Id", "abc-123")
		r := e.do(t, req)
		require.Equal(t, "abc-123", r.header.Get("X-Request-Id"))
	})

	t.Run("on refused requests", func(t *testing.T) {
		r := e.do(t, e.request(t, http.MethodPost, "/query", "text/plain", strings.NewReader("{}")))
		require.Equal(t, http.StatusUnsupportedMediaType, r.status)
		require.NotEmpty(t, r.header.Get("X-Request-Id"))
	})
}
