package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"custgraph/ent/entgql"
	"custgraph/graph/scalars"
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

	p, msg = post(`{"QUERY":"{\n  a(s: \"\u00e9\")\n}"}`) // (keys match as encoding/json matches them)
	require.Empty(t, msg)
	require.Equal(t, "{\n  a(s: \"\u00e9\")\n}", p.Query)

	many := `{"a":[` + strings.Repeat("1,", 100) + `1]}` // 102 values, over the 100 allowed
	for body, want := range map[string]string{
		`{"query":"{ a }","variables":` + many + `}`:  tooManyVariables,
		`{"query":1,"variables":` + many + `}`:        tooManyVariables, // (counted before the types)
		`{"query":"{ a }"} {"query":"{ b }"}`:         "the request body must be one JSON object",
		`{"query":"{ a }"} x`:                         "the request body must be one JSON object",
		`[{"query":"{ a }"}]`:                         "the request body must be one JSON object",
		`{"query":"{ a }"`:                            "the request body must be one JSON object",
		``:                                            "the request body must be one JSON object",
		`null`:                                        "the request has no query",
		`{}`:                                          "the request has no query",
		`{"query":1}`:                                 "query must be a string",
		`{"query":"{ a }","operationName":[]}`:        "operationName must be a string",
		`{"query":"{ a }","variables":"x"}`:           "variables must be a JSON object",
		`{"query":"{ a }","variables":[1]}`:           "variables must be a JSON object",
		`{"query":"{ a }","extensions":3}`:            "extensions must be a JSON object",
		`{"query":"{ a }","extensions":` + many + `}`: tooManyExtensions,
		// Not UTF-8: encoding/json would store each bad byte as U+FFFD.
		"{\"query\":\"mutation { a(s: \\\"\xff\\\") }\"}":          invalidUTF8,
		"{\"query\":\"{ a }\",\"variables\":{\"s\":\"\xc3\x28\"}}": invalidUTF8,
	} {
		_, msg := post(body)
		require.True(t, strings.HasPrefix(msg, want), "%s: %q, want %q", body, msg, want)
	}
}

// TestDecodeParamsGETNotUTF8: a GET's parameters, once percent-decoded,
// must be UTF-8 too.
func TestDecodeParamsGETNotUTF8(t *testing.T) {
	for _, q := range []string{"query=%7B+a(s:+%22%FF%22)+%7D", "query=%7B+a+%7D&variables=%7B%22s%22:%22%C3%28%22%7D"} {
		_, msg := decodeParams(httptest.NewRequest(http.MethodGet, "/query?"+q, nil), 100)
		require.Equal(t, invalidUTF8, msg, q)
	}
	p, msg := decodeParams(httptest.NewRequest(http.MethodGet, "/query?query=%7B+a(s:+%22%C3%A9%22)+%7D", nil), 100)
	require.Empty(t, msg)
	require.Equal(t, `{ a(s: "é") }`, p.Query)
}

// TestResponseBufferIsSizedByTheLastAnswer: an operation's answer buffer
// starts as large as its last answer (and an eighth more); another
// operation's does not inherit it; sizes past 2 MiB are capped.
func TestResponseBufferIsSizedByTheLastAnswer(t *testing.T) {
	// (The sizes wanted, not the buffers' capacities: a buffer comes from
	// the process-wide pool when one is large enough, and the other tests'
	// answers, some still being written, fill it.)
	a, b := &ast.OperationDefinition{Name: "A"}, &ast.OperationDefinition{Name: "B"}
	require.Zero(t, answerSize(a))
	rememberResponseSize(a, 18_000)
	require.Equal(t, 18_000+18_000/8, answerSize(a))
	require.GreaterOrEqual(t, responseBuffer(a).Cap(), 18_000+18_000/8)
	require.Zero(t, answerSize(b), "another operation")
	rememberResponseSize(a, 700)
	require.Equal(t, 700+700/8, answerSize(a), "the last answer counts")
	rememberResponseSize(b, 5<<20)
	require.Equal(t, (2<<20-1)+(2<<20-1)/8, answerSize(b))
	require.Zero(t, answerSize(nil))
	rememberResponseSize(nil, 10) // no operation: nothing to remember
	require.Zero(t, answerSize(nil))
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

// TestLeafMarshalersWriteWhatGqlgenWrites: byte for byte what gqlgen's
// marshallers (and ent's, for enums) write, to the answer's buffer and to
// any other writer, and without an allocation on the way to the buffer.
func TestLeafMarshalersWriteWhatGqlgenWrites(t *testing.T) {
	same := func(want graphql.Marshaler, got graphql.Marshaler, plain bool) {
		t.Helper()
		var a, b bytes.Buffer
		want.MarshalGQL(&a)
		got.MarshalGQL(&b)
		require.Equal(t, a.String(), b.String())
		var c strings.Builder // not the answer's buffer
		got.MarshalGQL(&c)
		require.Equal(t, a.String(), c.String())
		if !plain {
			return // (an escape allocates: gqlgen's for a control character, strconv's)
		}
		buf := bytes.NewBuffer(make([]byte, 0, 1<<16))
		require.Zero(t, testing.AllocsPerRun(100, func() { buf.Reset(); got.MarshalGQL(buf) }), "allocations writing %s", a.String())
	}
	for _, s := range []string{"", "plain", "Müller", "quote \" and \\ back", "tab\tnew\nline\r\x01\x1f", "\xff\xfe invalid", strings.Repeat("long ", 500)} {
		same(graphql.MarshalString(s), stringLeaf{&s}, !strings.Contains(s, "\x01"))
	}
	for _, at := range []time.Time{
		time.Date(2026, 12, 6, 5, 30, 0, 123456789, time.UTC),
		time.Date(2026, 12, 6, 5, 30, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.FixedZone("x", -(9*3600+30*60))),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("y", 14*3600)),
		time.Now(),
	} {
		same(graphql.MarshalTime(at), timeLeaf{&at}, true)
		same(graphql.MarshalTime(at), scalars.MarshalTime(at), true) // (nullable times, through the Time binding)
	}
	require.Equal(t, graphql.Null, scalars.MarshalTime(time.Time{}))
	for _, l := range [][]string{nil, {}, {"vip"}, {"vip", "", "Müller", "quote \" and \\ back", "\xff\xfe invalid"}} {
		want := graphql.Array{}
		for _, s := range l {
			want = append(want, graphql.MarshalString(s))
		}
		same(want, stringList(l), true)
	}
	for _, id := range []uuid.UUID{uuid.New(), uuid.Max, uuid.MustParse("01a24a20-5eba-7e3c-bc8e-9574352754fb")} {
		same(graphql.MarshalUUID(id), uuidLeaf{&id}, true)
	}
	type status string // as ent generates an enum: MarshalGQL quotes String()
	for _, e := range []status{"RECEIVED", "BALANCE_ACCOUNT", "", "odd \"one\"", "ünï", "ctl\x01"} {
		same(graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(e))) }), enumLeaf[status]{&e},
			!strings.ContainsFunc(string(e), func(r rune) bool { return r < 0x20 || r >= 0x7f || r == '"' || r == '\\' }))
	}
}

// TestFieldSetWritesWhatGqlgenWrites: inline.go's fieldSet writes an
// object as graphql.FieldSet does, a repeated alias (skipped) included,
// to the answer's buffer and to any other writer, with up to its inline
// capacity of values and beyond.
func TestFieldSetWritesWhatGqlgenWrites(t *testing.T) {
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	var sizes [][]string // both sides of each of newFieldSet's rooms
	for _, n := range []int{2, 4, 5, 6, 7, 8, 9, 12, 16, 17} {
		aliases := make([]string, n)
		for i := range aliases {
			aliases[i] = "f" + strconv.Itoa(i)
		}
		sizes = append(sizes, aliases)
	}
	for _, aliases := range append([][]string{
		{},
		{"id"},
		{"id", "legalName", "labels"},
		{"a", "b", "a", "c", "b"}, // repeats
		{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13"},
		append(strings.Fields(strings.Repeat("a b c d e f g h i j ", 4)), "k"), // past scanAliases: a map, repeats
	}, sizes...) {
		var fields []graphql.CollectedField
		for _, a := range aliases {
			fields = append(fields, field(a))
		}
		want, got := graphql.NewFieldSet(fields), newFieldSet(fields)
		require.Len(t, got.Values, len(fields))
		require.Equal(t, len(fields), cap(got.Values), "a value past the fields would be written over the next room")
		for i := range fields {
			v := graphql.MarshalString(`value "` + strconv.Itoa(i) + `"`)
			if i == 2 {
				v = graphql.Null
			}
			want.Values[i], got.Values[i] = v, v
		}
		var a, b bytes.Buffer
		want.MarshalGQL(&a)
		got.MarshalGQL(&b)
		require.Equal(t, a.String(), b.String())
		var c strings.Builder
		got.MarshalGQL(&c)
		require.Equal(t, a.String(), c.String())
	}
}

// TestFieldSetIsOneSmallAllocation: an object's field set and its values
// are one allocation, in the smallest of newFieldSet's rooms that holds
// them; the bytes are those of Go's size class for the set and its room.
func TestFieldSetIsOneSmallAllocation(t *testing.T) {
	const set = int(unsafe.Sizeof(fieldSet{}))
	for _, c := range []struct{ fields, room, class int }{
		{1, 1, 128}, {2, 2, 144}, {3, 4, 176}, {6, 6, 208}, {7, 8, 240}, {12, 12, 320}, {14, 16, 384},
	} {
		require.LessOrEqual(t, set+16*c.room, c.class, "the size classes of this Go")
		fields := make([]graphql.CollectedField, c.fields)
		var s *fieldSet
		allocs := testing.AllocsPerRun(100, func() { s = newFieldSet(fields) })
		require.Equal(t, 1.0, allocs, "%d fields", c.fields)
		perSet := uint64(1 << 62) // the least of 5 tries: another test's goroutine may allocate meanwhile
		for range 5 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 1000 {
				s = newFieldSet(fields)
			}
			runtime.ReadMemStats(&after)
			perSet = min(perSet, (after.TotalAlloc-before.TotalAlloc)/1000)
		}
		require.Equal(t, uint64(c.class), perSet, "%d fields", c.fields)
		require.Len(t, s.Values, c.fields)
	}
}

// countingListener counts the writes of the connections it accepts: the
// sends a response costs on the socket.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, writes: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestWriteDataSends: a large answer (a page of customers is some 18 KB)
// costs two sends on the socket, the headers with the first 4 KB and the
// rest, when its buffer has room for the closing brace, as
// responseBuffer's answers have; the brace written alone after it was a
// third. Either way the bytes and Content-Length are exact.
func TestWriteDataSends(t *testing.T) {
	page := bytes.Repeat([]byte(`{"id":"0123456789"},`), 900)
	page[0], page[len(page)-1] = '[', ']'
	for _, tc := range []struct {
		name  string
		data  []byte
		sends int64
	}{
		{"with room", append(make([]byte, 0, len(page)+len(page)/8), page...), 2},
		{"full", page[:len(page):len(page)], 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			cl := &countingListener{Listener: ln}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeData(w, json.RawMessage(tc.data))
			}))
			srv.Listener = cl
			srv.Start()
			defer srv.Close()
			res, err := http.Get(srv.URL)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, `{"data":`+string(page)+`}`, string(body))
			require.Equal(t, int64(len(body)), res.ContentLength)
			require.Equal(t, tc.sends, cl.writes.Load())
		})
	}
}

// BenchmarkDecodeParams: a dashboard's usual POST body (the peer
// benchmark's Q2: a query of 300 bytes and one variable).
func BenchmarkDecodeParams(b *testing.B) {
	body := `{"query":"query Q2($id: ID!) {\n  node(id: $id) {\n    ... on Customer {\n      id customerNumber legalName firstName lastName email mobilePhoneNumber labels customerStatus createdAt\n      products { edges { node { id productCode productType currency status createdAt } } }\n    }\n  }\n}","operationName":"Q2","variables":{"id":"01a24e56-2a5b-704d-935b-3f47862de428"}}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		if _, msg := decodeParams(r, 1000); msg != "" {
			b.Fatal(msg)
		}
	}
}

// FuzzDecodeBody: the one-pass reading of a body answers exactly what the
// two-pass reading (every parameter kept raw, then decoded) answers, for
// any body: the same parameters or the same message. go test runs the
// seeds; go test -fuzz FuzzDecodeBody ./graph/ looks further.
func FuzzDecodeBody(f *testing.F) {
	many := `{"a":[` + strings.Repeat("1,", 100) + `1]}`
	for _, seed := range []string{
		`{"query":"query Q($n: Int) { __typename }","operationName":"Q","variables":{"n":9007199254740993},"extensions":{"k":"v"}}  `,
		`{"query":"{ a }","operationName":null,"variables":null}`,
		`{"QUERY":"{\n  a(s: \"\u00e9\")\n}"}`,
		`{"query":1,"query":"{ a }"}`,
		`{"query":"{ a }","query":1}`,
		`{"query":"{ a }","variables":` + many + `}`,
		`{"query":1,"variables":` + many + `}`,
		`{"query":"{ a }"} {"query":"{ b }"}`,
		`[{"query":"{ a }"}]`, `{"query":"{ a }"`, ``, `null`, `{}`, `{"query":1}`,
		`{"query":"{ a }","operationName":[]}`, `{"query":"{ a }","variables":"x"}`,
		`{"query":"{ a }","variables":[1]}`, `{"query":"{ a }","extensions":3}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		`{"query":"\xff\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p1, msg1 := decodeBody(body, 100, true)
		p2, msg2 := decodeBody(body, 100, false)
		require.Equal(t, msg2, msg1, "%q", body)
		require.Equal(t, p2, p1, "%q", body)
	})
}

// TestIsSSENegotiates: a POST is answered as Server-Sent Events when its
// Accept weighs text/event-stream at least as much as JSON. Any mention of
// it used to win: text/event-stream;q=0.5, application/json got a stream.
func TestIsSSENegotiates(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/event-stream":                                          true,
		"text/event-stream, application/json":                        true,
		"application/json, text/event-stream":                        true,
		"text/event-stream, */*;q=0.1":                               true,
		"text/event-stream;q=0.5, application/json":                  false,
		"application/graphql-response+json, text/event-stream;q=0.9": false,
		"text/event-stream;q=0":                                      false,
		"application/json":                                           false,
		"":                                                           false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ a }"}`))
		r.Header.Set("Content-Type", "application/json")
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		require.Equal(t, want, isSSE(r), "Accept: %s", accept)
		require.Equal(t, want, negotiatedSSE{}.Supports(r), "Accept: %s (the transport)", accept)
	}
}
