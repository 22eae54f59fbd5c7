package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/ent/apiclient"
	"custgraph/ent/bank"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/server"
)

// TestHeadIsGetWithoutItsBody: HEAD on a GET route answers what GET
// answers (status, media type, length where GET's is known) with no body,
// as RFC 9110 has it. A load balancer's or monitor's HEAD probe of
// /readyz was 405. The routes that only take POST still refuse it.
func TestHeadIsGetWithoutItsBody(t *testing.T) {
	o := newObserved(t, false, nil)
	tok := o.token(t, partnerID, partnerSecret)
	for _, c := range []struct{ path, token string }{
		{"/healthz", ""},
		{"/readyz", ""},
		{"/openapi.json", ""},
		{"/obp/v5.1.0/banks/bank.a", tok},
		{"/obp/v5.1.0/banks/bank.a", ""}, // refused alike
		{"/query?query=" + url.QueryEscape("{ banks { totalCount } }"), tok},
		{"/query?query=" + url.QueryEscape("{ banks { totalCount } }"), ""},
		{"/nope", ""},
	} {
		get := o.send(t, http.MethodGet, c.path, c.token, "", nil)
		head := o.send(t, http.MethodHead, c.path, c.token, "", nil)
		require.Equal(t, get.status, head.status, "HEAD %s (token %v): %s", c.path, c.token != "", get.body)
		require.Empty(t, head.body, "HEAD %s", c.path)
		require.Equal(t, get.header.Get("Content-Type"), head.header.Get("Content-Type"), "HEAD %s", c.path)
		if n := head.header.Get("Content-Length"); n != "" {
			require.Equal(t, get.header.Get("Content-Length"), n, "HEAD %s", c.path)
		}
	}
	require.Equal(t, http.StatusMethodNotAllowed, o.send(t, http.MethodHead, "/oauth/token", "", "", nil).status)
}

// TestEveryRouteRefusesOtherMethods: a route answers a method it does not
// serve with 405 and the Allow header RFC 9110 requires, and a method no
// route knows with 501, on every path, with or without a token. PUT on
// /metrics or GraphiQL's page was 200, and FOO on any path a bare 405
// without Allow.
func TestEveryRouteRefusesOtherMethods(t *testing.T) {
	o := newObserved(t, false, nil)
	tok := o.token(t, partnerID, partnerSecret)
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodPut, "/metrics", "GET, HEAD"},
		{http.MethodDelete, "/metrics", "GET, HEAD"},
		{http.MethodPost, "/", "GET, HEAD"},
		{http.MethodPut, "/graphiql", "GET, HEAD"},
		{http.MethodPost, "/graphiql/assets/graphiql.css", "GET, HEAD"},
		{http.MethodPut, "/healthz", "GET, HEAD"},
		{http.MethodPatch, "/schema.graphql", "GET, HEAD"},
	} {
		for _, token := range []string{"", tok} {
			r := o.send(t, c.method, c.path, token, "", nil)
			require.Equal(t, http.StatusMethodNotAllowed, r.status, "%s %s (token %v): %s", c.method, c.path, token != "", r.body)
			require.Equal(t, c.allow, r.header.Get("Allow"), "%s %s", c.method, c.path)
		}
	}
	for _, path := range []string{"/", "/query", "/metrics", "/healthz", "/nope", "/oauth/token",
		"/v1/profiles/bank.a/customers", "/roles/customers", "/obp/v5.1.0/banks", "/openapi.json"} {
		for _, method := range []string{"FOO", "PROPFIND", "get", http.MethodConnect} {
			for _, token := range []string{"", tok} {
				r := o.send(t, method, path, token, "", nil)
				require.Equal(t, http.StatusNotImplemented, r.status, "%s %s (token %v): %s", method, path, token != "", r.body)
				require.Equal(t, "application/json", r.mediaType(t), "%s %s", method, path)
				var body struct{ Error, Message string }
				require.NoError(t, json.Unmarshal(r.body, &body), "%s", r.body)
				require.Equal(t, "not_implemented", body.Error, "%s", r.body)
				require.Contains(t, body.Message, method, "%s", r.body)
			}
		}
	}
	// Made-up methods do not become series of their own.
	metrics := string(o.send(t, http.MethodGet, "/metrics", "", "", nil).body)
	require.Contains(t, metrics, `method="other"`)
	for _, method := range []string{"FOO", "PROPFIND", "get", http.MethodConnect} {
		require.NotContains(t, metrics, `method="`+method+`"`)
	}
}

// TestStalledBodyIsRequestTimeout: a body that does not arrive before the
// server's read deadline is 408 in every door's format. It was 400 ("could
// not be read") at GraphQL, bankingservice.ai and Tradevest, as if the
// client had sent a malformed body; and where the body was read before the
// route looked up its bank (an Idempotency-Key, OBP's id check), the
// expired request context made it a 503 or OBP-50000. As in production,
// the request's timeout ends before the read deadline.
func TestStalledBodyIsRequestTimeout(t *testing.T) {
	o := newObserved(t, false, func(c *server.Config) { c.RequestTimeout = 200 * time.Millisecond })
	ctx := access.System(context.Background())
	cl := o.db.Client.APIClient.Query().Where(apiclient.ClientID(partnerID)).OnlyX(ctx)
	b := o.db.Client.Bank.Query().Where(bank.Code("bank.a")).OnlyX(ctx)
	_, err := admin.Grant(ctx, o.db.Client, &cl.ID, nil, access.CanCreateCustomer, &b.ID)
	require.NoError(t, err)
	tok := o.token(t, partnerID, partnerSecret)
	srv := httptest.NewUnstartedServer(o.srv.Config.Handler)
	srv.Config.ReadTimeout = 600 * time.Millisecond // (production: the request timeout + 5 s)
	srv.Start()
	t.Cleanup(srv.Close)
	const key = "Idempotency-Key: stalled-1\r\n"
	for _, c := range []struct {
		path, header string
		status       int
		want         string
	}{
		{"/query", "", http.StatusRequestTimeout, `"code":"REQUEST_TIMEOUT"`},
		{"/query", key, http.StatusRequestTimeout, `"code":"REQUEST_TIMEOUT"`},
		{"/oauth/token", "", http.StatusBadRequest, `"error":"invalid_request"`}, // (RFC 6749 has no other status)
		{"/v1/profiles/bank.a/customers", "", http.StatusRequestTimeout, `"error":"request_timeout"`},
		{"/v1/profiles/bank.a/customers", key, http.StatusRequestTimeout, `"error":"request_timeout"`},
		{"/roles/customers", "", http.StatusRequestTimeout, `"responseType":"REQUEST_TIMEOUT"`},
		{"/roles/customers", "Requestor-ID: stalled-2\r\n", http.StatusRequestTimeout, `"responseType":"REQUEST_TIMEOUT"`},
		{"/obp/v3.1.0/banks/bank.a/customers", "", http.StatusRequestTimeout, `"message":"OBP-10001: Incorrect json format.`},
		{"/obp/v3.1.0/banks/bank.a/customers", key, http.StatusRequestTimeout, `"message":"OBP-10001: Incorrect json format.`},
		{"/obp/v5.1.0/banks/bank.a/customers", "", http.StatusRequestTimeout, `"message":"OBP-10001: Incorrect json format.`},
	} {
		t.Run(strings.TrimPrefix(c.path, "/")+" "+strings.TrimSpace(c.header), func(t *testing.T) {
			t.Parallel() // (each waits for the read deadline)
			stall(t, srv.Listener.Addr().String(), tok, c.path, c.header, c.status, c.want)
		})
	}
}

// stall sends a POST to path with a body cut short, and checks the answer
// given when the read deadline passes.
func stall(t *testing.T, addr, tok, path, header string, status int, want string) {
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	ct := "application/json"
	if path == "/oauth/token" {
		ct = "application/x-www-form-urlencoded"
	}
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\n%s"+
		"Content-Length: 100\r\n\r\n{\"first", path, tok, ct, header)
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	require.Equal(t, status, res.StatusCode, "%s", body)
	require.Contains(t, string(body), want)
}
