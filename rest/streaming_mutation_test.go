package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// TestMutationOverStreamingTransports: a mutation sent over a WebSocket
// (graphql-transport-ws) or Server-Sent Events is refused once, with
// BAD_REQUEST, then complete, and nothing is stored: only subscriptions are
// served there (graph/subscriptions.go, subscriptionsOnly), since a live
// connection is exempt from the per-request bounds. (Before that, such a
// mutation was answered: entgql's Transactioner then panicked on the
// transports' last ask for a response, and sent the client an INTERNAL
// error after the mutation had committed; the answer here is still one
// message, then complete.)
func TestMutationOverStreamingTransports(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	create := `mutation($b: ID!, $n: String!) { createCustomer(input: {bankID: $b, legalName: $n}) { legalName } }`
	const refused = "a mutation is not served over a live connection (WebSocket, Server-Sent Events), only subscriptions are: send it as an HTTP request (POST /query)"
	count := func(name string) int {
		data := e.gql(t, writer, `query($n: String!) { customers(where: {legalName: $n}) { totalCount } }`, map[string]any{"n": name})
		var c struct{ TotalCount int }
		require.NoError(t, json.Unmarshal(data["customers"], &c))
		return c.TotalCount
	}

	t.Run("graphql-transport-ws", func(t *testing.T) {
		conn := dialAcked(t, e.srv.URL, writer)
		defer conn.Close()
		require.NoError(t, conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe",
			"payload": map[string]any{"query": create, "variables": map[string]any{"b": e.A.ID, "n": "Over WebSocket"}}}))
		var got []string
		for {
			var m map[string]json.RawMessage
			require.NoError(t, conn.ReadJSON(&m))
			if string(m["type"]) == `"ping"` {
				continue
			}
			got = append(got, string(m["type"])+" "+string(m["payload"]))
			if string(m["type"]) == `"complete"` || string(m["type"]) == `"error"` {
				break
			}
		}
		require.Equal(t, []string{`"next" {"errors":[{"message":"` + refused + `","extensions":{"code":"BAD_REQUEST"}}],"data":null}`, `"complete" `}, got)
		require.Equal(t, 0, count("Over WebSocket"))
	})

	t.Run("SSE", func(t *testing.T) {
		res := postSSE(t, e.srv.URL, writer, create, map[string]any{"b": e.A.ID, "n": "Over SSE"})
		require.Equal(t, http.StatusOK, res.StatusCode)
		stream, err := io.ReadAll(res.Body) // the stream ends after complete
		require.NoError(t, err)
		require.Equal(t, ":\n\nevent: next\ndata: {\"errors\":[{\"message\":\""+refused+"\",\"extensions\":{\"code\":\"BAD_REQUEST\"}}],\"data\":null}\n\nevent: complete\n\n", string(stream))
		require.Equal(t, 0, count("Over SSE"))
	})
}

// TestSubscriptionSelectsOneField: a subscription selecting two top-level
// fields (two aliases of the one stream) is refused before it runs, as
// the GraphQL spec's Single root field rule says, not failed in the
// executor as INTERNAL.
func TestSubscriptionSelectsOneField(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	reader := e.client(t, e.A, allBankRoles(e.A)...)
	conn := dialAcked(t, e.srv.URL, reader)
	defer conn.Close()
	require.NoError(t, conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": `subscription Two { a: changes { cursor } b: changes { cursor } }`}}))
	var m struct {
		Type    string
		Payload []struct {
			Message    string
			Extensions map[string]any
		}
	}
	require.NoError(t, conn.ReadJSON(&m))
	require.Equal(t, "error", m.Type)
	require.Len(t, m.Payload, 1)
	require.Equal(t, `Subscription "Two" must select only one top level field.`, m.Payload[0].Message)
	require.Equal(t, "GRAPHQL_VALIDATION_FAILED", m.Payload[0].Extensions["code"])
}

// dialAcked opens a graphql-transport-ws connection to srvURL and
// authenticates it in connection_init with authorization.
func dialAcked(t *testing.T, srvURL, authorization string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(srvURL, "http")+"/query", nil)
	require.NoError(t, err)
	res.Body.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second))) // a guard against hanging, not a measure
	require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": authorization}}))
	var ack map[string]any
	require.NoError(t, conn.ReadJSON(&ack))
	require.Equal(t, "connection_ack", ack["type"])
	return conn
}

// urqlAccept is the Accept header urql's fetch exchange sends with every
// POST (@urql/core 6): JSON and Server-Sent Events weighed alike.
const urqlAccept = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"

// TestUrqlAcceptGetsJSONUnlessSubscribing: with urql's Accept header, a
// mutation and a query are answered as JSON (the mutation is stored) and a
// subscription as a stream. Every such POST used to get a stream, which
// refuses all but subscriptions: urql could send no mutation.
func TestUrqlAcceptGetsJSONUnlessSubscribing(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	post := func(body map[string]any) *http.Response {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", urqlAccept)
		req.Header.Set("Authorization", writer)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := post(map[string]any{"query": `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "By urql"}) { legalName } }`,
		"variables": map[string]any{"b": e.A.ID}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/graphql-response+json", res.Header.Get("Content-Type"))
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.JSONEq(t, `{"data":{"createCustomer":{"legalName":"By urql"}}}`, string(body))

	res = post(map[string]any{"operationName": "Count", "query": `subscription Live { changes { cursor } } query Count { customers(where: {legalName: "By urql"}) { totalCount } }`})
	require.Equal(t, "application/graphql-response+json", res.Header.Get("Content-Type"))
	body, err = io.ReadAll(res.Body)
	require.NoError(t, err)
	require.JSONEq(t, `{"data":{"customers":{"totalCount":1}}}`, string(body))

	// (A field the type lacks: the stream's one event shows that the body
	// read ahead reached the transport whole.)
	res = post(map[string]any{"operationName": "Live", "query": `subscription Live { changes { nope } } query Count { customers { totalCount } }`})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	body, err = io.ReadAll(res.Body) // the stream ends after complete
	require.NoError(t, err)
	require.Contains(t, string(body), "event: next\ndata: {\"errors\":[{\"message\":\"Cannot query field \\\"nope\\\" on type \\\"Change\\\".")
	require.True(t, strings.HasSuffix(string(body), "event: complete\n\n"), "%s", body)
}
