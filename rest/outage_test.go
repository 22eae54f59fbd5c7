package rest_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/server"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// While the database cannot be reached, every door answers 503 with
// Retry-After in its own format (issue 14, item 3), a failed request
// writes no log line of its own beyond the outage's bounded ones (item 2),
// and once the database is back, so are the answers.

// tcpProxy forwards TCP connections to target; cut closes its listener and
// every connection (the database becomes unreachable: connections are
// refused), restore listens again on the same address.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) listen(addr string) {
	p.t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[u] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close(); c.Close() }()
			go func() { _, _ = io.Copy(c, u); u.Close(); c.Close() }()
		}
	}()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *tcpProxy) restore() { p.listen(p.addr) }

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON log lines written since line from (and the count
// of all lines).
func (l *lockedBuffer) lines(t *testing.T, from int) ([]map[string]any, int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if n <= from {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "log line %s", sc.Bytes())
		out = append(out, m)
	}
	return out, n
}

// outageEnv is a server over a database reached through a proxy.
type outageEnv struct {
	srv   *httptest.Server
	db    *store.DB
	auth  *authn.Service
	sys   context.Context
	bank  *ent.Bank
	logs  *lockedBuffer
	proxy *tcpProxy
}

// caller returns the Authorization header of a new API client holding
// every bank role, its token issued directly.
func (e *outageEnv) caller(t *testing.T) string {
	t.Helper()
	id := "client-" + uuid.NewString()[:8]
	cl, _, err := admin.CreateClient(e.sys, e.db.Client, admin.ClientInput{ClientID: id, Name: id})
	require.NoError(t, err)
	for _, r := range access.BankRoles() {
		_, err := admin.Grant(e.sys, e.db.Client, &cl.ID, nil, r, &e.bank.ID)
		require.NoError(t, err)
	}
	tok, _, err := e.auth.Issue(authn.ClientSubject(cl))
	require.NoError(t, err)
	return "Bearer " + tok
}

// do sends a request (body: a string, sent as JSON unless headers say
// otherwise).
func (e *outageEnv) do(t *testing.T, method, path, authorization, body string, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("X-Request-Id", "outage-test")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return roundTrip(t, req)
}

func newOutageEnv(t *testing.T, dsn string, proxy *tcpProxy) *outageEnv {
	t.Helper()
	statements := new(atomic.Int64)
	db, err := store.Open(context.Background(), dsn, store.Options{
		Wrap:   func(d dialect.Driver) dialect.Driver { return store.Counting(d, statements) },
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	sys := access.System(context.Background())
	bank, err := db.Client.Bank.Create().SetCode(bankA).SetName("Test Bank").Save(sys)
	require.NoError(t, err)
	logs := new(lockedBuffer)
	log := slog.New(slog.NewJSONHandler(logs, nil))
	auth, err := authn.New(sys, db.Client, authn.Config{Hub: db.Hub, Logger: log})
	require.NoError(t, err)
	srv := httptest.NewServer(server.New(db, statements, server.Config{
		Auth: auth, Logger: log, CustomerFirehose: true,
		OutageLogInterval: time.Hour, // one line for the whole outage, whatever the test's speed
	}))
	t.Cleanup(srv.Close)
	return &outageEnv{srv: srv, db: db, auth: auth, sys: sys, bank: bank, logs: logs, proxy: proxy}
}

const (
	gqlUnavailable = `{"errors":[{"message":"the database is unavailable: retry later","extensions":{"code":"UNAVAILABLE"}}]}`
	obpUnavailable = `{"code":503,"message":"OBP-50019: Cannot connect to the OBP database. The database is unavailable: retry later."}`
)

// unavailable checks a 503: Retry-After, the media type and, when want is
// not "", the exact JSON body.
func unavailable(t *testing.T, res reply, mediaType, want string) {
	t.Helper()
	require.Equal(t, http.StatusServiceUnavailable, res.status, "body: %s", res.body)
	require.Equal(t, "5", res.header.Get("Retry-After"))
	mt, _, err := mime.ParseMediaType(res.header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, mediaType, mt)
	if want != "" {
		require.JSONEq(t, want, string(res.body))
	}
}

// gqlUnavailableErrors checks a GraphQL answer whose every error is
// UNAVAILABLE (a query of several fields has one each).
func gqlUnavailableErrors(t *testing.T, res reply) {
	t.Helper()
	var out struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	require.NoError(t, json.Unmarshal(res.body, &out), "%s", res.body)
	require.NotEmpty(t, out.Errors, "%s", res.body)
	for _, e := range out.Errors {
		require.Equal(t, "UNAVAILABLE", e.Extensions.Code, "%s", res.body)
		require.Equal(t, "the database is unavailable: retry later", e.Message)
	}
}

func TestOutageAnswers503InEachDoor(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite is a file, never unreachable; its busy lock is TestSQLiteBusyIsUnavailable")
	}
	u, err := url.Parse(testdb.DSN(t))
	require.NoError(t, err)
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	e := newOutageEnv(t, u.String(), proxy)

	tok, fresh := e.caller(t), e.caller(t)
	password := "pw-" + uuid.NewString()
	usr, err := e.db.Client.User.Create().SetUsername("alice").Save(e.sys)
	require.NoError(t, err)
	_, err = admin.SetPassword(e.sys, e.db.Client, usr.ID, password)
	require.NoError(t, err)
	consumer, _, err := admin.CreateClient(e.sys, e.db.Client, admin.ClientInput{ClientID: "consumer-a", Name: "consumer-a"})
	require.NoError(t, err)
	cust, err := e.db.Client.Customer.Create().SetBankID(e.bank.ID).SetLegalName("Outage Person").Save(e.sys)
	require.NoError(t, err)
	directLogin := `username="alice", password="` + password + `", consumer_key="` + consumer.ClientID + `"`
	obpCustomer := "/obp/v3.1.0/banks/" + bankA + "/customers/" + cust.ID.String()
	query := `{"query":"{ customers(first: 1) { totalCount } banks(first: 1) { totalCount } }"}`

	// Every door answers while the database is there (and the callers
	// of tok are cached: their requests fail in the handlers, fresh's in
	// authentication).
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/query", query},
		{http.MethodGet, "/v1/profiles/" + bankA + "/customers", ""},
		{http.MethodGet, "/roles/customers", ""},
		{http.MethodGet, obpCustomer, ""},
	} {
		res := e.do(t, c.method, c.path, tok, c.body)
		require.Equal(t, http.StatusOK, res.status, "%s %s: %s", c.method, c.path, res.body)
	}
	res := e.do(t, http.MethodPost, "/my/logins/direct", "", "", "DirectLogin", directLogin)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	_, before := e.logs.lines(t, 0)

	e.proxy.cut()
	failed := 0 // the requests answered 503 for the outage
	check := func(t *testing.T, res reply, mediaType, want string) {
		t.Helper()
		unavailable(t, res, mediaType, want)
		failed++
	}
	t.Run("GraphQL", func(t *testing.T) {
		res := e.do(t, http.MethodPost, "/query", tok, query)
		check(t, res, "application/json", "")
		gqlUnavailableErrors(t, res)
		res = e.do(t, http.MethodPost, "/query", tok, query, "Accept", "application/graphql-response+json")
		check(t, res, "application/graphql-response+json", "")
		gqlUnavailableErrors(t, res)
		res = e.do(t, http.MethodPost, "/query", tok, `{"query":"mutation { createBank(input: {code: \"x1\", name: \"X\"}) { id } }"}`)
		check(t, res, "application/json", "")
		gqlUnavailableErrors(t, res)
		check(t, e.do(t, http.MethodPost, "/query", fresh, query), "application/json", gqlUnavailable)
	})
	t.Run("bankingservice.ai", func(t *testing.T) {
		const want = `{"status":503,"error":"service_unavailable","message":"the database is unavailable: retry later"}`
		check(t, e.do(t, http.MethodGet, "/v1/profiles/"+bankA+"/customers", tok, ""), "application/json", want)
		check(t, e.do(t, http.MethodPost, "/v1/profiles/"+bankA+"/customers", tok, `{"first_name":"John"}`), "application/json", want)
		check(t, e.do(t, http.MethodGet, "/v1/profiles/"+bankA+"/customers", fresh, ""), "application/json", want)
	})
	t.Run("Tradevest", func(t *testing.T) {
		const want = `{"message":"the database is unavailable: retry later","responseType":"SERVICE_UNAVAILABLE",` +
			`"requestId":"outage-test","errorCode":"UNAVAILABLE","errorDetails":[]}`
		check(t, e.do(t, http.MethodGet, "/roles/customers", tok, ""), "application/json", want)
		check(t, e.do(t, http.MethodPost, "/roles/customers", tok, `{"entityId":"`+uuid.NewString()+`","entityType":"LEGAL_ENTITY"}`),
			"application/json", want)
		check(t, e.do(t, http.MethodGet, "/roles/customers", fresh, ""), "application/json", want)
	})
	t.Run("OBP", func(t *testing.T) {
		check(t, e.do(t, http.MethodGet, obpCustomer, tok, ""), "application/json", obpUnavailable)
		check(t, e.do(t, http.MethodGet, obpCustomer, fresh, ""), "application/json", obpUnavailable)
		check(t, e.do(t, http.MethodPost, "/my/logins/direct", "", "", "DirectLogin", directLogin), "application/json", obpUnavailable)
	})
	t.Run("OAuth", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"consumer-a"}, "client_secret": {"whatever"}}.Encode()
		check(t, e.do(t, http.MethodPost, "/oauth/token", "", form, "Content-Type", "application/x-www-form-urlencoded"), "application/json",
			`{"error":"temporarily_unavailable","error_description":"the database is unavailable: retry later"}`)
	})
	// Under load: many more failed requests.
	for range 30 {
		check(t, e.do(t, http.MethodGet, "/roles/customers", tok, ""), "application/json", "")
	}
	t.Run("/readyz as today", func(t *testing.T) {
		res := e.do(t, http.MethodGet, "/readyz", "", "")
		require.Equal(t, http.StatusServiceUnavailable, res.status)
		require.Equal(t, "database unavailable", strings.TrimSpace(string(res.body)))
	})

	t.Run("the log is bounded", func(t *testing.T) {
		lines, _ := e.logs.lines(t, before)
		var outage []map[string]any
		for _, l := range lines {
			if l["path"] == "/readyz" || l["msg"] == "not ready: database does not answer" {
				continue // the probe logs as it did
			}
			outage = append(outage, l)
		}
		require.Len(t, outage, 1, "%d failed requests, one log line: %v", failed, outage)
		require.Equal(t, "ERROR", outage[0]["level"])
		require.Equal(t, "request failed: the database is unavailable; answering 503 until it is back", outage[0]["msg"])
		// The cause, summarised: the pool's connections were closed, new
		// ones are refused.
		require.Contains(t, []any{"connection closed by the server", "connection reset", "connection refused"}, outage[0]["unavailable"])
		require.EqualValues(t, 503, outage[0]["status"])
	})

	e.proxy.restore()
	t.Run("recovery", func(t *testing.T) {
		// The pool's broken connections are found and replaced as they
		// are used: until then requests are still 503, never 500.
		ok := false
		for range 20 {
			res := e.do(t, http.MethodPost, "/query", tok, query)
			if res.status == http.StatusOK {
				ok = true
				break
			}
			check(t, res, "application/json", "")
		}
		require.True(t, ok, "GraphQL answers again once the database is back")
		for _, c := range []struct{ method, path string }{
			{http.MethodGet, "/v1/profiles/" + bankA + "/customers"},
			{http.MethodGet, "/roles/customers"},
			{http.MethodGet, obpCustomer},
		} {
			var res reply
			for range 20 {
				if res = e.do(t, c.method, c.path, fresh, ""); res.status != http.StatusServiceUnavailable {
					break
				}
				check(t, res, "application/json", "")
			}
			require.Equal(t, http.StatusOK, res.status, "%s %s: %s", c.method, c.path, res.body)
		}
		res := e.do(t, http.MethodPost, "/my/logins/direct", "", "", "DirectLogin", directLogin)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.Equal(t, http.StatusOK, e.do(t, http.MethodGet, "/readyz", "", "").status)

		lines, _ := e.logs.lines(t, 0)
		var back []map[string]any
		for _, l := range lines {
			if l["msg"] == "the database is reachable again" {
				back = append(back, l)
			}
		}
		require.Len(t, back, 1)
		require.EqualValues(t, failed, back[0]["failed_requests"], "every failed request is counted")
	})
}

// TestSQLiteBusyIsUnavailable: on SQLite, a write that cannot take the
// write lock within the busy timeout (another process holds it) is an
// outage of the database, 503 with Retry-After, not a 500.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	if testdb.Name() != "sqlite" {
		t.Skip("SQLite's write lock")
	}
	path := filepath.Join(t.TempDir(), "busy.db")
	e := newOutageEnv(t, "file:"+path+"?_pragma=busy_timeout(50)", nil)
	tok := e.caller(t)

	other, err := sql.Open("sqlite", store.SQLiteDSN(path))
	require.NoError(t, err)
	defer other.Close()
	conn, err := other.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE") // the write lock, held
	require.NoError(t, err)
	_, before := e.logs.lines(t, 0)

	res := e.do(t, http.MethodPost, "/query", tok, `{"query":"mutation { createBank(input: {code: \"x1\", name: \"X\"}) { id } }"}`)
	unavailable(t, res, "application/json", "")
	gqlUnavailableErrors(t, res)
	unavailable(t, e.do(t, http.MethodPost, "/v1/profiles/"+bankA+"/customers", tok, `{"first_name":"John"}`), "application/json",
		`{"status":503,"error":"service_unavailable","message":"the database is unavailable: retry later"}`)
	unavailable(t, e.do(t, http.MethodPost, "/roles/customers", tok, `{"entityId":"`+uuid.NewString()+`","entityType":"LEGAL_ENTITY"}`),
		"application/json", `{"message":"the database is unavailable: retry later","responseType":"SERVICE_UNAVAILABLE",`+
			`"requestId":"outage-test","errorCode":"UNAVAILABLE","errorDetails":[]}`)
	unavailable(t, e.do(t, http.MethodPost, "/obp/v5.1.0/banks/"+bankA+"/customers", tok,
		`{"legal_name":"Eve","mobile_phone_number":"+49 30 901820"}`), "application/json", obpUnavailable)
	lines, _ := e.logs.lines(t, before)
	require.Len(t, lines, 1, "four failed requests, one log line: %v", lines)
	require.Equal(t, "database is locked (SQLITE_BUSY)", lines[0]["unavailable"])

	_, err = conn.ExecContext(context.Background(), "ROLLBACK")
	require.NoError(t, err)
	res = e.do(t, http.MethodPost, "/v1/profiles/"+bankA+"/customers", tok, `{"first_name":"John"}`)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
}
