package server_test

// What operators see (internal/observe): the spans of a REST call and of a
// GraphQL query (HTTP request → GraphQL operation → SQL statements, one
// trace, continuing an incoming traceparent), the log lines that carry
// the trace, the caller and the operation, and the /metrics series.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	dto "github.com/prometheus/client_model/go"

	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/changes"
	"custgraph/internal/observe"
	"custgraph/internal/ratelimit"
	"custgraph/internal/server"
	"custgraph/internal/testdb"
)

// observed is a server with authentication, a partner client (partnerID,
// bound to bank.a, CanGetCustomer there) and, for the assertions, its
// log lines, its spans (when traced) and a way to wait until the handler
// of every request answered so far has returned (its span ended, its log
// line written).
type observed struct {
	*env
	spans   *tracetest.SpanRecorder // nil when not traced
	logs    *syncBuffer
	handled sync.WaitGroup
}

func newObserved(t *testing.T, traced bool, change func(*server.Config)) *observed {
	t.Helper()
	db, statements := testdb.Open(t)
	ctx := access.System(context.Background())
	bank, err := db.Client.Bank.Create().SetCode("bank.a").SetName("Bank A").Save(ctx)
	require.NoError(t, err)
	cl, _, err := admin.CreateClient(ctx, db.Client, admin.ClientInput{
		ClientID: partnerID, Name: "Partner A", Secret: partnerSecret, BankID: &bank.ID})
	require.NoError(t, err)
	_, err = admin.Grant(ctx, db.Client, &cl.ID, nil, access.CanGetCustomer, &bank.ID)
	require.NoError(t, err)
	o := &observed{logs: new(syncBuffer)}
	cfg := testConfig()
	cfg.Logger = observe.Logger(newJSONLogger(o.logs))
	cfg.Auth, err = authn.New(ctx, db.Client, authn.Config{Hub: db.Hub, PublicURL: publicURL, Logger: cfg.Logger})
	require.NoError(t, err)
	if traced {
		o.spans = tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o.spans))
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		cfg.Tracing = &observe.Tracing{Provider: tp}
	}
	if change != nil {
		change(&cfg)
	}
	h := server.New(db, statements, cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.handled.Add(1)
		defer o.handled.Done()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	o.env = &env{srv: srv, db: db, statements: statements}
	return o
}

// settled waits until the handlers of the requests answered so far have
// returned.
func (o *observed) settled() { o.handled.Wait() }

func newJSONLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "%s", l)
		out = append(out, m)
	}
	return out
}

// requestLine returns the access log line of the request to path.
func (o *observed) requestLine(t *testing.T, path string) map[string]any {
	t.Helper()
	o.settled()
	var found map[string]any
	for _, l := range o.logs.lines(t) {
		if l["msg"] == "request" && l["path"] == path {
			found = l
		}
	}
	require.NotNil(t, found, "no access log line for %s", path)
	return found
}

// send sends a request with a bearer token ("" for none) and headers.
func (o *observed) send(t *testing.T, method, path, token, body string, headers map[string]string) reply {
	t.Helper()
	req := o.request(t, method, path, "", nil)
	if body != "" {
		req = o.request(t, method, path, "application/json", strings.NewReader(body))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return o.do(t, req)
}

func graphqlBody(t *testing.T, query string) string {
	t.Helper()
	b, err := json.Marshal(params{Query: query})
	require.NoError(t, err)
	return string(b)
}

// spanTree is the ended spans of one trace.
type spanTree []sdktrace.ReadOnlySpan

// trace returns the ended spans of the trace the span named name belongs
// to (there must be exactly one span of that name).
func (o *observed) trace(t *testing.T, name string) (spanTree, sdktrace.ReadOnlySpan) {
	t.Helper()
	o.settled()
	var root sdktrace.ReadOnlySpan
	all := o.spans.Ended()
	for _, s := range all {
		if s.Name() == name {
			require.Nil(t, root, "two spans named %q", name)
			root = s
		}
	}
	require.NotNil(t, root, "no span named %q among %v", name, names(all))
	var tree spanTree
	for _, s := range all {
		if s.SpanContext().TraceID() == root.SpanContext().TraceID() {
			tree = append(tree, s)
		}
	}
	return tree, root
}

// children returns the spans whose parent is p.
func (tr spanTree) children(p sdktrace.ReadOnlySpan) spanTree {
	var out spanTree
	for _, s := range tr {
		if s.Parent().SpanID() == p.SpanContext().SpanID() {
			out = append(out, s)
		}
	}
	return out
}

// sql returns the statement spans among tr (db.system.name set).
func (tr spanTree) sql() spanTree {
	var out spanTree
	for _, s := range tr {
		if attr(s, "db.system.name") != "" {
			out = append(out, s)
		}
	}
	return out
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

// attr returns a span attribute's value as text ("" when absent).
func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func attrSlice(s sdktrace.ReadOnlySpan, key string) []string {
	for _, kv := range s.Attributes() {
		if kv.Key == attribute.Key(key) {
			return kv.Value.AsStringSlice()
		}
	}
	return nil
}

func TestTracing(t *testing.T) {
	o := newObserved(t, true, nil)
	tok := o.token(t, partnerID, partnerSecret)
	dbSystem := map[string]string{"sqlite": "sqlite", "postgres": "postgresql"}[testdb.Name()]

	t.Run("a REST call: its HTTP span and its SQL statements, one trace", func(t *testing.T) {
		r := o.send(t, http.MethodGet, "/obp/v5.1.0/banks/bank.a", tok, "", nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		tree, root := o.trace(t, "GET /obp/v5.1.0/banks/{bankId}")
		require.Equal(t, trace.SpanKindServer, root.SpanKind())
		require.False(t, root.Parent().IsValid(), "no incoming trace: a root span")
		require.Equal(t, "/obp/v5.1.0/banks/{bankId}", attr(root, "http.route"))
		require.Equal(t, "200", attr(root, "http.response.status_code"))
		stmts := tree.sql()
		require.NotEmpty(t, stmts)
		require.Equal(t, stmts, tree.children(root), "the statements are the HTTP span's children, and nothing else is")
		var bankRead bool
		for _, s := range stmts {
			require.Equal(t, trace.SpanKindClient, s.SpanKind())
			require.Equal(t, dbSystem, attr(s, "db.system.name"))
			require.NotContains(t, attr(s, "db.query.text"), "bank.a", "values are arguments, not in the text")
			if attr(s, "db.collection.name") == "banks" && attr(s, "db.operation.name") == "SELECT" {
				bankRead = true
				require.Equal(t, "SELECT banks", s.Name())
			}
		}
		require.True(t, bankRead, "a SELECT of banks among %v", names(stmts))
		line := o.requestLine(t, "/obp/v5.1.0/banks/bank.a")
		require.Equal(t, root.SpanContext().TraceID().String(), line["trace_id"])
		require.Equal(t, root.SpanContext().SpanID().String(), line["span_id"])
		require.Equal(t, "client:"+partnerID, line["caller"])
	})

	t.Run("a GraphQL query: HTTP span, operation span, SQL spans", func(t *testing.T) {
		r := o.send(t, http.MethodPost, "/query", tok, graphqlBody(t, `query Partners { customers { totalCount } }`), nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Empty(t, r.gql(t).Errors, "%s", r.body)
		tree, root := o.trace(t, "POST /query")
		ops := tree.children(root).filter(func(s sdktrace.ReadOnlySpan) bool { return attr(s, "db.system.name") == "" })
		require.Len(t, ops, 1, "one operation span under the HTTP span: %v", names(tree))
		op := ops[0]
		require.Equal(t, "query Partners", op.Name())
		require.Equal(t, "Partners", attr(op, "graphql.operation.name"))
		require.Equal(t, "query", attr(op, "graphql.operation.type"))
		require.Equal(t, codes.Unset, op.Status().Code)
		stmts := tree.children(op)
		require.NotEmpty(t, stmts, "the operation's SQL statements are its children")
		require.Equal(t, stmts, stmts.sql())
		for _, s := range stmts {
			require.Equal(t, root.SpanContext().TraceID(), s.SpanContext().TraceID())
			require.False(t, s.StartTime().Before(op.StartTime()))
			require.False(t, s.EndTime().After(op.EndTime()))
		}
		require.False(t, op.EndTime().After(root.EndTime()))
		line := o.requestLine(t, "/query")
		require.Equal(t, root.SpanContext().TraceID().String(), line["trace_id"])
		require.Equal(t, "Partners", line["operation"])
		require.Equal(t, "client:"+partnerID, line["caller"])
	})

	t.Run("an incoming traceparent is the parent", func(t *testing.T) {
		const (
			traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
			spanID  = "00f067aa0ba902b7"
		)
		r := o.send(t, http.MethodPost, "/query", tok, graphqlBody(t, `query Continued { customers { totalCount } }`),
			map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-01"})
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		tree, op := o.trace(t, "query Continued")
		require.Equal(t, traceID, op.SpanContext().TraceID().String())
		var root sdktrace.ReadOnlySpan
		for _, s := range tree {
			if s.SpanContext().SpanID() == op.Parent().SpanID() {
				root = s
			}
		}
		require.NotNil(t, root, "the operation's parent is in the trace")
		require.Equal(t, trace.SpanKindServer, root.SpanKind())
		require.Equal(t, spanID, root.Parent().SpanID().String(), "the caller's span is the HTTP span's parent")
		require.True(t, root.Parent().IsRemote())
		require.NotEmpty(t, tree.children(op).sql())
	})

	t.Run("an operation refused by a limit: its span has the code", func(t *testing.T) {
		r := o.send(t, http.MethodPost, "/query", tok,
			graphqlBody(t, `query Aliased { a: customers { totalCount } b: customers { totalCount } c: customers { totalCount } d: customers { totalCount } }`), nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body) // a request error, as application/json
		_, op := o.trace(t, "query Aliased")
		require.Equal(t, codes.Error, op.Status().Code)
		require.Equal(t, []string{"TOO_MANY_ALIASES"}, attrSlice(op, "graphql.error.codes"))
	})

	t.Run("probes are not traced", func(t *testing.T) {
		before := len(o.spans.Ended())
		require.Equal(t, http.StatusOK, o.get(t, "/healthz").status)
		require.Equal(t, http.StatusOK, o.get(t, "/metrics").status)
		o.settled()
		require.Len(t, o.spans.Ended(), before)
	})
}

func (tr spanTree) filter(keep func(sdktrace.ReadOnlySpan) bool) spanTree {
	var out spanTree
	for _, s := range tr {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// TestTracingOff: without a provider nothing is traced, and log lines have
// no trace ids, but the caller and the operation all the same.
func TestTracingOff(t *testing.T) {
	o := newObserved(t, false, nil)
	tok := o.token(t, partnerID, partnerSecret)
	r := o.send(t, http.MethodPost, "/query", tok, graphqlBody(t, `query Quiet { customers { totalCount } }`), nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	line := o.requestLine(t, "/query")
	require.NotContains(t, line, "trace_id")
	require.Equal(t, "Quiet", line["operation"])
	require.Equal(t, "client:"+partnerID, line["caller"])
}

// metrics scrapes /metrics.
func (o *observed) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	o.settled()
	r := o.get(t, "/metrics")
	require.Equal(t, http.StatusOK, r.status)
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	require.NoError(t, err)
	return fams
}

// value returns the value of the series of name with exactly labels: a
// counter's or gauge's value, a histogram's count; -1 when absent.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	return -1
}

func TestMetricsSeries(t *testing.T) {
	o := newObserved(t, false, func(c *server.Config) {
		rate, err := ratelimit.New(nil, ratelimit.Config{Requests: 1000, Window: time.Hour, Store: ratelimit.StoreMemory})
		if err != nil {
			panic(err)
		}
		c.RateLimit = rate
	})
	tok := o.token(t, partnerID, partnerSecret)
	query := func(q string) reply {
		t.Helper()
		return o.send(t, http.MethodPost, "/query", tok, graphqlBody(t, q), nil)
	}
	require.Equal(t, http.StatusOK, query(`query Partners { customers { totalCount } }`).status)
	require.Equal(t, http.StatusOK, query(`query Partners { customers { totalCount } }`).status)
	require.Equal(t, http.StatusOK, query(`{ customers { totalCount } }`).status)
	require.Equal(t, http.StatusOK, query(`query Aliased { a: customers { totalCount } b: customers { totalCount } c: customers { totalCount } d: customers { totalCount } }`).status)
	r := query(`query Missing { node(id: "01a23e64-cad1-7535-95f2-57cbb78ae20d") { id } }`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	missing := r.gql(t)
	require.NotEmpty(t, missing.Errors, "%s", r.body)
	require.Equal(t, "NOT_FOUND", missing.Errors[0].Extensions["code"], "%s", r.body)
	require.Equal(t, http.StatusOK, query(`mutation Refused { createBank(input: {code: "x", name: "y"}) { id } }`).status)
	require.Equal(t, http.StatusOK, o.send(t, http.MethodGet, "/obp/v5.1.0/banks/bank.a", tok, "", nil).status)
	require.Equal(t, http.StatusUnauthorized, o.send(t, http.MethodPost, "/query", "not.a.jwt", graphqlBody(t, `{ __typename }`), nil).status)
	bad := o.request(t, http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded",
		strings.NewReader("grant_type=client_credentials"))
	bad.SetBasicAuth(partnerID, "wrong-secret")
	require.Equal(t, http.StatusUnauthorized, o.do(t, bad).status)

	m := o.metrics(t)
	op := func(name, typ, code string) float64 {
		return value(m, "custgraph_graphql_operation_duration_seconds", map[string]string{"operation": name, "type": typ, "code": code})
	}
	require.Equal(t, 2.0, op("Partners", "query", "OK"))
	require.Equal(t, 1.0, op("anonymous", "query", "OK"))
	require.Equal(t, 1.0, op("Aliased", "query", "TOO_MANY_ALIASES"))
	require.Equal(t, 1.0, op("Missing", "query", "NOT_FOUND"))
	require.Equal(t, 1.0, op("Refused", "mutation", "FORBIDDEN"), "the partner may not create banks")
	require.Equal(t, 1.0, value(m, "custgraph_graphql_errors_total", map[string]string{"code": "TOO_MANY_ALIASES"}))
	require.Equal(t, 1.0, value(m, "custgraph_graphql_errors_total", map[string]string{"code": "FORBIDDEN"}))
	require.Equal(t, 1.0, value(m, "custgraph_graphql_limit_refusals_total", map[string]string{"code": "TOO_MANY_ALIASES"}))
	require.Equal(t, -1.0, value(m, "custgraph_graphql_limit_refusals_total", map[string]string{"code": "FORBIDDEN"}), "not a limit")

	httpCount := func(route, method, status string) float64 {
		return value(m, "custgraph_http_request_duration_seconds", map[string]string{"route": route, "method": method, "status": status})
	}
	require.Equal(t, 6.0, httpCount("/query", "POST", "200"), "the limit's refusal too (a request error, as application/json)")
	require.Equal(t, -1.0, httpCount("/query", "POST", "400"))
	require.Equal(t, 1.0, httpCount("/query", "POST", "401"))
	require.Equal(t, 1.0, httpCount("/obp/v5.1.0/banks/{bankId}", "GET", "200"))
	require.Equal(t, 1.0, httpCount("/oauth/token", "POST", "200"))
	require.Equal(t, 1.0, httpCount("/oauth/token", "POST", "401"))

	require.Equal(t, 1.0, value(m, "custgraph_authentication_failures_total", map[string]string{"reason": "invalid_token"}))
	require.Equal(t, 1.0, value(m, "custgraph_authentication_failures_total", map[string]string{"reason": "invalid_client"}))

	require.Positive(t, value(m, "custgraph_sql_statements_total", map[string]string{}))
	dbName := map[string]string{"db_name": map[string]string{"sqlite": "sqlite3", "postgres": "postgres"}[testdb.Name()]}
	require.GreaterOrEqual(t, value(m, "go_sql_max_open_connections", dbName), 0.0, "database/sql's pool statistics")
	require.GreaterOrEqual(t, value(m, "go_sql_open_connections", dbName), 0.0) // (on PostgreSQL, idle ones go back to pgx's pool)
	if testdb.Name() == "postgres" {
		require.Positive(t, value(m, "custgraph_pgxpool_max_conns", map[string]string{}))
		require.Positive(t, value(m, "custgraph_pgxpool_acquires_total", map[string]string{}))
		require.GreaterOrEqual(t, value(m, "custgraph_pgxpool_total_conns", map[string]string{}), 1.0)
	} else {
		require.Nil(t, m["custgraph_pgxpool_max_conns"], "SQLite has no pgx pool")
	}
}

// TestMetricsRateLimited: a refusal by the rate limit is counted.
func TestMetricsRateLimited(t *testing.T) {
	o := newObserved(t, false, func(c *server.Config) {
		rate, err := ratelimit.New(nil, ratelimit.Config{Requests: 2, Window: time.Hour, Store: ratelimit.StoreMemory})
		if err != nil {
			panic(err)
		}
		c.RateLimit = rate
	})
	tok := o.token(t, partnerID, partnerSecret) // counted for this IP
	for range 2 {
		require.Equal(t, http.StatusOK, o.send(t, http.MethodPost, "/query", tok, graphqlBody(t, `{ __typename }`), nil).status)
	}
	require.Equal(t, http.StatusTooManyRequests, o.send(t, http.MethodPost, "/query", tok, graphqlBody(t, `{ __typename }`), nil).status)
	m := o.metrics(t)
	require.Equal(t, 1.0, value(m, "custgraph_rate_limited_total", map[string]string{"limit": "rate"}))
	require.Equal(t, 1.0, value(m, "custgraph_http_request_duration_seconds",
		map[string]string{"route": "/query", "method": "POST", "status": "429"}))
}

// newLiveObserved is newObserved serving subscriptions, and a stop of its
// change stream (as at the end of a server's drain).
func newLiveObserved(t *testing.T, change func(*server.Config)) (*observed, func()) {
	stop := func() {}
	o := newObserved(t, false, func(c *server.Config) {
		ctx, cancel := context.WithCancel(context.Background())
		feed, _ := testdb.Open(t) // (a database of its own: the tests need no changes)
		c.Changes = changes.NewBroker(feed.Client, feed.Hub, changes.BrokerOptions{Logger: slog.New(slog.DiscardHandler)})
		done := make(chan struct{})
		go func() { defer close(done); c.Changes.Run(ctx) }()
		stop = sync.OnceFunc(func() { cancel(); <-done })
		if change != nil {
			change(c)
		}
	})
	t.Cleanup(stop)
	return o, stop
}

// TestCutStreamIsLogged: a stream of Server-Sent Events that the server
// cuts off (here the change stream stops, as at the end of a restart's
// drain) ends its handler with http.ErrAbortHandler; it still gets its
// access log line, marked aborted, and its HTTP metric.
func TestCutStreamIsLogged(t *testing.T) {
	o, stop := newLiveObserved(t, nil)
	tok := o.token(t, partnerID, partnerSecret)
	req := o.request(t, http.MethodPost, "/query", "application/json",
		strings.NewReader(graphqlBody(t, `subscription Feed { changes { cursor } }`)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	res, err := o.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))

	stop()
	body, err := io.ReadAll(res.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the stream is cut off: %s", body)
	line := o.requestLine(t, "/query")
	require.Equal(t, true, line["aborted"], "%v", line)
	require.EqualValues(t, http.StatusOK, line["status"])
	require.Equal(t, "Feed", line["operation"])
	require.Equal(t, 1.0, value(o.metrics(t), "custgraph_http_request_duration_seconds",
		map[string]string{"route": "/query", "method": "POST", "status": "200"}))
}

// TestLogLevelsAndUpgrades: an answer the server is not at fault for is
// not logged at error level (a readiness probe answered 503 while the
// server drains, many a second on every restart; a method no route knows,
// 501), and a WebSocket upgrade is logged and counted as 101, not 200.
func TestLogLevelsAndUpgrades(t *testing.T) {
	var draining atomic.Bool
	o, _ := newLiveObserved(t, func(c *server.Config) { c.Draining = &draining })
	draining.Store(true)
	require.Equal(t, http.StatusServiceUnavailable, o.get(t, "/readyz").status)
	require.Equal(t, "WARN", o.requestLine(t, "/readyz")["level"])
	draining.Store(false)
	require.Equal(t, http.StatusNotImplemented, o.send(t, "PROPFIND", "/nowhere", "", "", nil).status)
	require.Equal(t, "INFO", o.requestLine(t, "/nowhere")["level"])

	tok := o.token(t, partnerID, partnerSecret)
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(o.srv.URL, "http")+"/query", http.Header{"Authorization": {"Bearer " + tok}})
	require.NoError(t, err)
	res.Body.Close()
	require.NoError(t, conn.Close())
	line := o.requestLine(t, "/query") // (once the connection's handler returned)
	require.EqualValues(t, http.StatusSwitchingProtocols, line["status"], "%v", line)
	require.Equal(t, "INFO", line["level"])
	require.Equal(t, 1.0, value(o.metrics(t), "custgraph_http_request_duration_seconds",
		map[string]string{"route": "/query", "method": "GET", "status": "101"}))
}

// TestIdleWebSocketIsToldToReconnect: when the change stream stops (the
// end of a restart's drain), a WebSocket connection that holds no
// subscription is closed with 1012 (Service Restart) as one that holds
// some is, and its handler ends, counted by Config.LiveConns, which the
// server waits for: such connections were left open until the process
// ended, so their clients saw 1006 (abnormal closure) and the access log
// had no line for them.
func TestIdleWebSocketIsToldToReconnect(t *testing.T) {
	var conns sync.WaitGroup
	o, stop := newLiveObserved(t, func(c *server.Config) { c.LiveConns = &conns })
	tok := o.token(t, partnerID, partnerSecret)
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(o.srv.URL, "http")+"/query", nil)
	require.NoError(t, err)
	res.Body.Close()
	defer conn.Close()
	require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}}))
	var ack struct{ Type string }
	require.NoError(t, conn.ReadJSON(&ack))
	require.Equal(t, "connection_ack", ack.Type)

	stop()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second))) // a guard against hanging, not a measure
	for {
		var m map[string]any
		if err = conn.ReadJSON(&m); err != nil {
			break
		}
		require.Equal(t, "ping", m["type"], "only keep-alives before the close: %v", m)
	}
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, 1012, ce.Code, "%v", err)

	ended := make(chan struct{})
	go func() { conns.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(30 * time.Second): // a guard against hanging, not a measure
		t.Fatal("the connection's handler did not return")
	}
	line := o.requestLine(t, "/query")
	require.EqualValues(t, http.StatusSwitchingProtocols, line["status"], "%v", line)
}
