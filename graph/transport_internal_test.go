package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestAppendResponse: the answer is byte for byte what encoding/json
// writes of graphql.Response, without scanning data again.
func TestAppendResponse(t *testing.T) {
	yes := true
	for _, resp := range []*graphql.Response{
		{Data: json.RawMessage(`{"a":1}`)},
		{},
		{Errors: gqlerror.List{{Message: `say "data":null`, Extensions: map[string]any{"data": nil}}}},
		{Errors: gqlerror.List{{Message: "x", Path: ast.Path{ast.PathName("a")}}}, Data: json.RawMessage(`{"a":null}`),
			Label: "l", Path: ast.Path{ast.PathIndex(1)}, HasNext: &yes, Extensions: map[string]any{"data": nil, "k": "v"}},
	} {
		want, err := json.Marshal(resp)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendResponse(nil, resp)))
		if dataOnly(resp) { // written without appendResponse: the same bytes, and their length
			rec := httptest.NewRecorder()
			writeData(rec, resp.Data)
			require.Equal(t, string(want), rec.Body.String())
			require.Equal(t, strconv.Itoa(len(want)), rec.Header().Get("Content-Length"))
		}
	}
	require.True(t, dataOnly(&graphql.Response{}))
	require.False(t, dataOnly(&graphql.Response{Extensions: map[string]any{"k": 1}}))
	require.False(t, dataOnly(&graphql.Response{Errors: gqlerror.List{{Message: "x"}}}))
}

// TestDecodeParams: what a POST body must be, and what each parameter may be.
func TestDecodeParams(t *testing.T) {
	post := func(body string) (*graphql.RawParams, string) {
		return decodeParams(httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body)), 100)
	}
	p, msg := post(`{"query":"query Q($n: Int) { __typename }","operationName":"Q","variables":{"n":9007199254740993},"extensions":{"k":"v"}}  `)
	require.Empty(t, msg)
	require.Equal(t, "query Q($n: Int) { __typename }", p.Query)
	require.Equal(t, "Q", p.OperationName)
	require.Equal(t, json.Number("9007199254740993"), p.Variables["n"], "numbers stay exact")
	require.Equal(t, "v", p.Extensions["k"])

	p, msg = post(`{"query":"{ a }","operationName":null,"variables":null}`)
	require.Empty(t, msg)
	require.Equal(t, "{ a }", p.Query)
	require.Empty(t, p.OperationName)
	require.Nil(t, p.Variables)

	for body, want := range map[string]string{
		`{"query":"{ a }"} {"query":"{ b }"}`:  "the request body must be one JSON object",
		`{"query":"{ a }"} x`:                  "the request body must be one JSON object",
		`[{"query":"{ a }"}]`:                  "the request body must be one JSON object",
		`{"query":"{ a }"`:                     "the request body must be one JSON object",
		``:                                     "the request body must be one JSON object",
		`null`:                                 "the request has no query",
		`{}`:                                   "the request has no query",
		`{"query":1}`:                          "query must be a string",
		`{"query":"{ a }","operationName":[]}`: "operationName must be a string",
		`{"query":"{ a }","variables":"x"}`:    "variables must be a JSON object",
		`{"query":"{ a }","variables":[1]}`:    "variables must be a JSON object",
		`{"query":"{ a }","extensions":3}`:     "extensions must be a JSON object",
	} {
		_, msg := post(body)
		require.True(t, strings.HasPrefix(msg, want), "%s: %q, want %q", body, msg, want)
	}
}

// TestResponseBufferIsSizedByTheLastAnswer: an operation's answer buffer
// starts as large as its last answer (and an eighth more); another
// operation's does not inherit it; sizes past 2 MiB are capped.
func TestResponseBufferIsSizedByTheLastAnswer(t *testing.T) {
	a, b := &ast.OperationDefinition{Name: "A"}, &ast.OperationDefinition{Name: "B"}
	require.Zero(t, responseBuffer(a).Cap())
	rememberResponseSize(a, 18_000)
	require.Equal(t, 18_000+18_000/8, responseBuffer(a).Cap())
	require.Zero(t, responseBuffer(b).Cap(), "another operation")
	rememberResponseSize(a, 700)
	require.Equal(t, 700+700/8, responseBuffer(a).Cap(), "the last answer counts")
	rememberResponseSize(b, 5<<20)
	require.Equal(t, (2<<20-1)+(2<<20-1)/8, responseBuffer(b).Cap())
	require.Zero(t, responseBuffer(nil).Cap())
	rememberResponseSize(nil, 10) // no operation: nothing to remember
}

// TestCursorMarshalerWritesWhatEntgqlWrites: byte for byte, for the cursor
// values custgraph's orders hold (none, times, strings, numbers, NULLs).
func TestCursorMarshalerWritesWhatEntgqlWrites(t *testing.T) {
	at := time.Date(2026, 12, 6, 5, 30, 0, 123456789, time.UTC)
	for _, c := range []entgql.Cursor[uuid.UUID]{
		{ID: uuid.New()},
		{ID: uuid.New(), Value: []any{at}},
		{ID: uuid.New(), Value: []any{at.In(time.FixedZone("x", 3600)), "Müller", int64(42), nil, 2.5, true}},
		{ID: uuid.Nil, Value: []any{strings.Repeat("long ", 2000)}},
	} {
		for range 2 { // the second time from the pool
			var want, got bytes.Buffer
			c.MarshalGQL(&want)
			cursorMarshaler(c).MarshalGQL(&got)
			require.Equal(t, want.String(), got.String())
		}
	}
}
