package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
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
