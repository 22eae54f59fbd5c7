package rest_test

// The REST tests run the whole HTTP surface (server.New, as server.go
// serves it: authentication, rate limits, timeouts) over a real database:
// a SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is
// set (internal/testdb). Callers get real tokens from /oauth/token and OBP
// DirectLogin.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// Codes of the two banks every env has.
const (
	bankA = "gh.29.uk"
	bankB = "at.02.0061"
)

// env is one server over one fresh database with two banks.
type env struct {
	srv        *httptest.Server
	db         *store.DB
	statements *atomic.Int64
	A, B       *ent.Bank
	sys        context.Context // custgraph itself, for set-up and checks
	n          int
	dsn        string // the database's address (another replica opens it again)
	stopLive   func() // (envOptions.live) stops the change stream, as a server's drain does
}

// envOptions change the server's configuration.
type envOptions struct {
	noFirehose   bool
	maxBodyBytes int64
	live         bool          // serve subscriptions (live_test.go)
	liveReads    float64       // server.Config.LiveNodeReadsPerSecond
	liveInit     time.Duration // server.Config.LiveInitTimeout
	liveWrite    time.Duration // server.Config.LiveWriteTimeout
	liveBeat     time.Duration // server.Config.LiveKeepAlive
	sendBuffer   int           // the server's socket send buffer in bytes (0: the system's)
	readTimeout  time.Duration // the server's read deadline for a request (0: none)
}

func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	db, statements, dsn := testdb.OpenDSN(t)
	var stopLive func()
	sys := access.System(context.Background())
	a, err := db.Client.Bank.Create().SetCode(bankA).SetName("Test Bank").Save(sys)
	require.NoError(t, err)
	b, err := db.Client.Bank.Create().SetCode(bankB).SetName("Demo Bank Austria").Save(sys)
	require.NoError(t, err)
	auth, err := authn.New(sys, db.Client, authn.Config{Hub: db.Hub})
	require.NoError(t, err)
	cfg := server.Config{Auth: auth, Logger: slog.New(slog.DiscardHandler), CustomerFirehose: !o.noFirehose}
	cfg.GraphQL.MaxBodyBytes = o.maxBodyBytes
	if o.live {
		cfg.Changes, stopLive = startStoppableBroker(t, db)
		cfg.LiveNodeReadsPerSecond = o.liveReads
		cfg.LiveInitTimeout = o.liveInit
		cfg.LiveWriteTimeout = o.liveWrite
		cfg.LiveKeepAlive = o.liveBeat
	}
	srv := httptest.NewUnstartedServer(server.New(db, statements, cfg))
	if o.sendBuffer > 0 {
		srv.Listener = sendBufferListener{srv.Listener, o.sendBuffer}
	}
	srv.Config.ReadTimeout = o.readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{srv: srv, db: db, statements: statements, A: a, B: b, sys: sys, dsn: dsn, stopLive: stopLive}
}

// sendBufferListener sets the send buffer of each connection it accepts:
// a test of a client that reads nothing fills the server's socket buffer in
// a few thousand frames rather than the megabytes the system allows.
type sendBufferListener struct {
	net.Listener
	bytes int
}

func (l sendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(l.bytes)
	}
	return c, err
}

// role is one entitlement: a role at a bank (nil: system-wide).
type role struct {
	name access.Role
	bank *ent.Bank
}

// at is role r at bank b.
func at(b *ent.Bank, roles ...access.Role) []role {
	out := make([]role, len(roles))
	for i, r := range roles {
		out[i] = role{r, b}
	}
	return out
}

// anyBank is the system-wide grant of each role (AtAnyBank variants, or system roles).
func anyBank(roles ...access.Role) []role {
	out := make([]role, len(roles))
	for i, r := range roles {
		out[i] = role{access.AtAnyBank(r), nil}
	}
	return out
}

// allBankRoles is every bank role at b.
func allBankRoles(b *ent.Bank) []role { return at(b, access.BankRoles()...) }

// client creates an API client (bound to bound when not nil) holding
// roles and returns a bearer token of it ("Bearer …").
func (e *env) client(t *testing.T, bound *ent.Bank, roles ...role) string {
	t.Helper()
	e.n++
	id := "client-" + uuid.NewString()[:8]
	secret := "secret-" + uuid.NewString()
	var bankID *uuid.UUID
	if bound != nil {
		bankID = &bound.ID
	}
	cl, _, err := admin.CreateClient(e.sys, e.db.Client, admin.ClientInput{ClientID: id, Name: id, Secret: secret, BankID: bankID})
	require.NoError(t, err)
	for _, r := range roles {
		var b *uuid.UUID
		if r.bank != nil {
			b = &r.bank.ID
		}
		_, err := admin.Grant(e.sys, e.db.Client, &cl.ID, nil, r.name, b)
		require.NoError(t, err, "granting %s", r.name)
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res := e.send(t, req)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.decode(t, &tok)
	return "Bearer " + tok.AccessToken
}

// user creates a user holding roles and logs it in with OBP DirectLogin;
// it returns the user and the Authorization header value
// (DirectLogin token="…").
func (e *env) user(t *testing.T, username string, roles ...role) (*ent.User, string) {
	t.Helper()
	password := "pw-" + uuid.NewString()
	u, err := e.db.Client.User.Create().SetUsername(username).Save(e.sys)
	require.NoError(t, err)
	_, err = admin.SetPassword(e.sys, e.db.Client, u.ID, password)
	require.NoError(t, err)
	for _, r := range roles {
		var b *uuid.UUID
		if r.bank != nil {
			b = &r.bank.ID
		}
		_, err := admin.Grant(e.sys, e.db.Client, nil, &u.ID, r.name, b)
		require.NoError(t, err, "granting %s", r.name)
	}
	return u, e.directLogin(t, username, password)
}

// directLogin logs a user in with OBP DirectLogin (through a new consumer)
// and returns the Authorization header value (DirectLogin token="…").
func (e *env) directLogin(t *testing.T, username, password string) string {
	t.Helper()
	consumer := "consumer-" + uuid.NewString()[:8]
	_, _, err := admin.CreateClient(e.sys, e.db.Client, admin.ClientInput{ClientID: consumer, Name: consumer, Secret: "secret-" + uuid.NewString()})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/my/logins/direct", nil)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("DirectLogin", `username="`+username+`", password="`+password+`", consumer_key="`+consumer+`"`)
	res := e.send(t, req)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	var tok struct {
		Token string `json:"token"`
	}
	res.decode(t, &tok)
	return `DirectLogin token="` + tok.Token + `"`
}

// reply is a finished HTTP exchange.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

// object is the body as a JSON object.
func (r reply) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// call is one request: method, path, the Authorization header ("" for
// none), a body (a string or []byte is sent as is, anything else as JSON;
// nil for none) and extra headers as name, value pairs.
func (e *env) call(t *testing.T, method, path, authorization string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(t, req)
}

// roundTrip sends req and reads the whole answer, checking nothing.
func roundTrip(t *testing.T, req *http.Request) reply {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// send is roundTrip that checks a REST answer against the OpenAPI document.
func (e *env) send(t *testing.T, req *http.Request) reply {
	t.Helper()
	rep := roundTrip(t, req)
	if isREST(req.URL.Path) {
		checkAgainstOpenAPI(t, req, rep)
	}
	return rep
}

// isREST reports whether path is one of the routes the OpenAPI document
// describes (the REST routes and the token endpoints), not GraphQL's.
func isREST(path string) bool {
	if path == authn.TokenPath || path == authn.DirectLoginPath {
		return true
	}
	for _, p := range []string{"/v1/", "/roles/", "/customers/", "/products/", "/obp/", "/entities-changelog"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// gql runs a GraphQL query with an Authorization header and returns data.
func (e *env) gql(t *testing.T, authorization, query string, vars map[string]any) map[string]json.RawMessage {
	t.Helper()
	res := e.call(t, http.MethodPost, "/query", authorization, map[string]any{"query": query, "variables": vars})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []json.RawMessage          `json:"errors"`
	}
	res.decode(t, &out)
	require.Empty(t, out.Errors, "GraphQL errors: %s", res.body)
	return out.Data
}
