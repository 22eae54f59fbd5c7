package rest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// TestWebSocketProtocolCloseCodes: a graphql-transport-ws client that
// breaks the protocol is closed with the code and reason the protocol
// prescribes (graphql-ws's PROTOCOL.md; graph/wsrefuse.go), where gqlgen's
// transport closed with 1002 (or not at all: a subscribe reusing a running
// operation's id silently replaced it). The older graphql-ws subprotocol
// keeps gqlgen's.
func TestWebSocketProtocolCloseCodes(t *testing.T) {
	// The init timeout is short for the 4408 case to wait it out, and long
	// enough for the cases that talk before connection_init (pings) on a
	// machine busy with other packages' tests.
	e := newEnv(t, envOptions{live: true, liveInit: 3 * time.Second})
	token := e.client(t, e.A, allBankRoles(e.A)...)
	dial := func(t *testing.T, subprotocol string) *websocket.Conn {
		t.Helper()
		d := websocket.Dialer{Subprotocols: []string{subprotocol}, HandshakeTimeout: 10 * time.Second}
		conn, res, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/query", nil)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, subprotocol, conn.Subprotocol())
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second))) // a guard against hanging, not a measure
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	send := func(t *testing.T, conn *websocket.Conn, m map[string]any) {
		t.Helper()
		require.NoError(t, conn.WriteJSON(m))
	}
	// next returns the server's next message (nil once closed) and the
	// close frame, answering pings.
	next := func(t *testing.T, conn *websocket.Conn) (map[string]json.RawMessage, *websocket.CloseError) {
		t.Helper()
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				ce, ok := err.(*websocket.CloseError)
				require.True(t, ok, "closed without a close frame: %v", err)
				return nil, ce
			}
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(b, &m), "%s", b)
			if string(m["type"]) == `"ping"` {
				_ = conn.WriteJSON(map[string]any{"type": "pong"})
				continue
			}
			return m, nil
		}
	}
	// closed reads until the server closes the connection.
	closed := func(t *testing.T, conn *websocket.Conn) *websocket.CloseError {
		t.Helper()
		for {
			m, ce := next(t, conn)
			if ce != nil {
				return ce
			}
			t.Logf("before the close: %v", m)
		}
	}
	// acked opens a graphql-transport-ws connection and has it acknowledged.
	acked := func(t *testing.T) *websocket.Conn {
		t.Helper()
		conn := dial(t, "graphql-transport-ws")
		send(t, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
		m, ce := next(t, conn)
		require.Nil(t, ce)
		require.Equal(t, `"connection_ack"`, string(m["type"]))
		return conn
	}
	// pong: the server has read every message sent before (it answers a
	// ping after them) and is still open.
	pong := func(t *testing.T, conn *websocket.Conn) {
		t.Helper()
		send(t, conn, map[string]any{"type": "ping"})
		for {
			m, ce := next(t, conn)
			require.Nil(t, ce, "the connection was closed")
			if string(m["type"]) == `"pong"` {
				return
			}
		}
	}
	subscribe := func(id, query string) map[string]any {
		return map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}}
	}
	requireClose := func(t *testing.T, ce *websocket.CloseError, code int, reason string) {
		t.Helper()
		require.Equal(t, code, ce.Code, "%v", ce)
		require.Equal(t, reason, ce.Text, "%v", ce)
	}

	t.Run("no connection_init in time: 4408", func(t *testing.T) {
		conn := dial(t, "graphql-transport-ws")
		requireClose(t, closed(t, conn), 4408, "Connection initialisation timeout")
	})
	t.Run("a second connection_init: 4429", func(t *testing.T) {
		conn := acked(t)
		send(t, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
		requireClose(t, closed(t, conn), 4429, "Too many initialisation requests")
	})
	t.Run("subscribe before connection_init: 4401", func(t *testing.T) {
		conn := dial(t, "graphql-transport-ws")
		send(t, conn, subscribe("1", changesSub))
		requireClose(t, closed(t, conn), 4401, "Unauthorized")
	})
	t.Run("invalid JSON: 4400", func(t *testing.T) {
		conn := acked(t)
		require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe",`)))
		requireClose(t, closed(t, conn), 4400, "Invalid message received: not JSON")
	})
	t.Run("invalid JSON before connection_init: 4400", func(t *testing.T) {
		conn := dial(t, "graphql-transport-ws")
		require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`connection_init`)))
		requireClose(t, closed(t, conn), 4400, "Invalid message received: not JSON")
	})
	// The shapes graphql-ws's own server refuses with 4400 (gqlgen's
	// transport ran a subscribe without an id, answered one without a
	// query with an error message, and dropped a connection_init whose
	// payload is not an object without a close frame).
	for _, c := range []struct {
		name, message, reason string
		afterInit             bool
	}{
		{"subscribe without an id", `{"type":"subscribe","payload":{"query":"subscription { changes { cursor } }"}}`, "subscribe without an id", true},
		{"subscribe with an empty id", `{"type":"subscribe","id":"","payload":{"query":"subscription { changes { cursor } }"}}`, "subscribe without an id", true},
		{"subscribe without a payload", `{"type":"subscribe","id":"1"}`, "subscribe's payload is not an object", true},
		{"subscribe with a string payload", `{"type":"subscribe","id":"1","payload":"subscription { changes { cursor } }"}`, "subscribe's payload is not an object", true},
		{"subscribe without a query", `{"type":"subscribe","id":"1","payload":{}}`, "subscribe's query is not a string", true},
		{"subscribe with a numeric query", `{"type":"subscribe","id":"1","payload":{"query":1}}`, "subscribe's query is not a string", true},
		{"subscribe with list variables", `{"type":"subscribe","id":"1","payload":{"query":"subscription { changes { cursor } }","variables":[]}}`, "subscribe's variables are not an object", true},
		{"subscribe with a numeric operationName", `{"type":"subscribe","id":"1","payload":{"query":"subscription { changes { cursor } }","operationName":1}}`, "subscribe's operationName is not a string", true},
		{"subscribe with string extensions", `{"type":"subscribe","id":"1","payload":{"query":"subscription { changes { cursor } }","extensions":"x"}}`, "subscribe's extensions are not an object", true},
		{"complete without an id", `{"type":"complete"}`, "complete without an id", true},
		{"ping with a list payload", `{"type":"ping","payload":[1]}`, "ping's payload is not an object", true},
		{"connection_init with a string payload", `{"type":"connection_init","payload":"token"}`, "connection_init's payload is not an object", false},
	} {
		t.Run(c.name+": 4400", func(t *testing.T) {
			var conn *websocket.Conn
			if c.afterInit {
				conn = acked(t)
			} else {
				conn = dial(t, "graphql-transport-ws")
			}
			require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(c.message)))
			requireClose(t, closed(t, conn), 4400, "Invalid message received: "+c.reason)
		})
	}
	// Before connection_init a ping is answered, and a pong or complete
	// ignored, as graphql-ws's server does (gqlgen's transport closed the
	// connection with 1002 "unexpected message").
	t.Run("ping, pong and complete before connection_init", func(t *testing.T) {
		conn := dial(t, "graphql-transport-ws")
		send(t, conn, map[string]any{"type": "ping", "payload": map[string]any{"at": "start"}})
		m, ce := next(t, conn)
		require.Nil(t, ce)
		require.Equal(t, `"pong"`, string(m["type"]))
		require.JSONEq(t, `{"at":"start"}`, string(m["payload"]))
		send(t, conn, map[string]any{"type": "pong"})
		send(t, conn, map[string]any{"type": "complete", "id": "1"})
		send(t, conn, map[string]any{"type": "ping"})
		m, ce = next(t, conn)
		require.Nil(t, ce)
		require.Equal(t, map[string]json.RawMessage{"type": json.RawMessage(`"pong"`)}, m)
		send(t, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
		m, ce = next(t, conn)
		require.Nil(t, ce)
		require.Equal(t, `"connection_ack"`, string(m["type"]))
		send(t, conn, subscribe("1", changesSub))
		pong(t, conn)
	})
	t.Run("a ping, connection_init and subscribe in one write", func(t *testing.T) {
		conn := dial(t, "graphql-transport-ws")
		init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
		sub, _ := json.Marshal(subscribe("1", changesSub))
		var b []byte
		for _, m := range [][]byte{[]byte(`{"type":"ping"}`), init, sub, []byte(`{"type":"ping","payload":{"n":2}}`)} {
			b = append(b, maskedFrame(m)...)
		}
		_, err := conn.UnderlyingConn().Write(b)
		require.NoError(t, err)
		var types []string
		for len(types) < 3 {
			m, ce := next(t, conn)
			require.Nil(t, ce, "after %v", types)
			types = append(types, string(m["type"]))
		}
		require.Equal(t, []string{`"pong"`, `"connection_ack"`, `"pong"`}, types)
	})
	t.Run("a client that pings without reading the pongs is let go", func(t *testing.T) {
		// Its socket buffers fill, and the server's pong waited on them for
		// as long as the client liked, with the write lock held and the
		// init timeout's close behind it: the connection's handler never
		// returned. The server's writes of its own frames are bounded now
		// (controlWriteTimeout), and the handler returns (the request is
		// counted in /metrics) while the client still reads nothing.
		e := newEnv(t, envOptions{live: true, liveInit: 300 * time.Millisecond, sendBuffer: 4096})
		served := func() string { return queryRequestsServed(t, e) }
		require.Empty(t, served())
		conn := dialTWS(t, e)
		tcp := conn.UnderlyingConn().(*net.TCPConn)
		require.NoError(t, tcp.SetReadBuffer(4096))
		frame := maskedFrame([]byte(`{"type":"ping","payload":{"pad":"` + strings.Repeat("x", 1000) + `"}}`))
		go func() { _, _ = tcp.Write(bytes.Repeat(frame, 10000)) }() // 10 MB of pings, never a read
		require.Eventually(t, func() bool { return served() != "" }, 20*time.Second, 100*time.Millisecond,
			"the server kept the connection of a client that reads nothing")
	})
	t.Run("a client that stops reading after connection_init is let go", func(t *testing.T) {
		// gqlgen and gorilla write with no deadline: the server's answers
		// waited on the client's full buffers for as long as it stayed
		// connected. Live.WriteTimeout bounds each write, and the
		// connection is closed past it.
		e := newEnv(t, envOptions{live: true, liveWrite: 500 * time.Millisecond, sendBuffer: 4096})
		token := e.client(t, e.A, allBankRoles(e.A)...)
		served := func() string { return queryRequestsServed(t, e) }
		conn := dialTWS(t, e)
		require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}}))
		_, ack, err := conn.ReadMessage()
		require.NoError(t, err)
		require.Contains(t, string(ack), "connection_ack")
		tcp := conn.UnderlyingConn().(*net.TCPConn)
		require.NoError(t, tcp.SetReadBuffer(4096))
		require.Empty(t, served())
		stream := bytes.Repeat(maskedFrame([]byte(`{"type":"ping"}`)), 500000) // 10 MB of pings, never a read
		go func() { _, _ = tcp.Write(stream) }()
		require.Eventually(t, func() bool { return served() != "" }, 30*time.Second, 100*time.Millisecond,
			"the server kept the connection of a client that reads nothing")
	})
	t.Run("a ping before connection_init with a list payload: 4400", func(t *testing.T) {
		conn := dial(t, "graphql-transport-ws")
		require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","payload":[]}`)))
		requireClose(t, closed(t, conn), 4400, "Invalid message received: ping's payload is not an object")
	})
	t.Run("a subscribe by its persisted query's hash alone runs", func(t *testing.T) {
		conn := acked(t)
		const q = "subscription { changes { cursor } }"
		hash := fmt.Sprintf("%x", sha256.Sum256([]byte(q)))
		apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
		// Unknown: the server asks for the text (and the connection stays open).
		send(t, conn, map[string]any{"id": "a", "type": "subscribe", "payload": map[string]any{"extensions": apq}})
		m, ce := next(t, conn)
		require.Nil(t, ce)
		require.Contains(t, string(m["payload"]), "PersistedQueryNotFound", "%s", m["payload"])
		// The text with the hash, then the hash alone.
		send(t, conn, map[string]any{"id": "b", "type": "subscribe", "payload": map[string]any{"query": q, "extensions": apq}})
		send(t, conn, map[string]any{"id": "c", "type": "subscribe", "payload": map[string]any{"query": nil, "extensions": apq}})
		pong(t, conn)
	})
	t.Run("a subscribe with null variables, operationName and extensions runs", func(t *testing.T) {
		conn := acked(t)
		require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","id":"1","payload":{"query":"subscription { changes { cursor } }","variables":null,"operationName":null,"extensions":null}}`)))
		pong(t, conn)
	})
	t.Run("an unknown message type: 4400", func(t *testing.T) {
		conn := acked(t)
		send(t, conn, map[string]any{"type": "unsubscribe", "id": "1"})
		requireClose(t, closed(t, conn), 4400, `Invalid message received: unexpected type "unsubscribe"`)
	})
	t.Run("a server's message type from the client: 4400", func(t *testing.T) {
		conn := acked(t)
		send(t, conn, map[string]any{"type": "next", "id": "1", "payload": map[string]any{}})
		requireClose(t, closed(t, conn), 4400, `Invalid message received: unexpected type "next"`)
	})
	t.Run("a subscribe with a running operation's id: 4409", func(t *testing.T) {
		conn := acked(t)
		// completed is the server's complete for id.
		completed := func(t *testing.T, id string) {
			t.Helper()
			for {
				m, ce := next(t, conn)
				require.Nil(t, ce, "the connection was closed")
				if string(m["id"]) == `"`+id+`"` && string(m["type"]) == `"complete"` {
					return
				}
			}
		}
		// An id is free again once the server ended its operation (here
		// with error and complete: the query is invalid)…
		send(t, conn, subscribe("a", `subscription { nothing }`))
		completed(t, "a")
		send(t, conn, subscribe("a", changesSub))
		pong(t, conn)
		// (A long error, which the server writes in several frames.)
		var long strings.Builder
		long.WriteString("subscription {")
		for i := range 100 {
			fmt.Fprintf(&long, " nothing%d", i)
		}
		long.WriteString(" }")
		send(t, conn, subscribe("long", long.String()))
		completed(t, "long")
		send(t, conn, subscribe("long", changesSub))
		pong(t, conn)
		// …or once the client completed it.
		send(t, conn, subscribe("c", changesSub))
		send(t, conn, map[string]any{"id": "c", "type": "complete"})
		send(t, conn, subscribe("c", changesSub))
		pong(t, conn)
		// gqlgen's transport completes an operation the client completed
		// (which frees its id too): once it has, "a" runs alone.
		send(t, conn, map[string]any{"id": "a", "type": "complete"})
		completed(t, "a")
		send(t, conn, subscribe("a", changesSub))
		send(t, conn, subscribe("b", changesSub))
		send(t, conn, subscribe("a", changesSub))
		requireClose(t, closed(t, conn), 4409, "Subscriber for a already exists")
	})
	t.Run("graphql-ws keeps gqlgen's codes", func(t *testing.T) {
		conn := dial(t, "graphql-ws")
		send(t, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
		m, ce := next(t, conn)
		require.Nil(t, ce)
		require.Equal(t, `"connection_ack"`, string(m["type"]))
		send(t, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": token}})
		ce = closed(t, conn)
		require.Equal(t, websocket.CloseProtocolError, ce.Code, "%v", ce)
		require.Equal(t, "unexpected message", ce.Text, "%v", ce)
	})
}

// maskedFrame is a client's text frame holding m (RFC 6455 §5.2).
func maskedFrame(m []byte) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	var f []byte
	switch {
	case len(m) < 126:
		f = []byte{0x81, 0x80 | byte(len(m))}
	default:
		f = []byte{0x81, 0x80 | 126, byte(len(m) >> 8), byte(len(m))}
	}
	f = append(f, key[:]...)
	for i, c := range m {
		f = append(f, c^key[i&3])
	}
	return f
}

// queryRequestsServed is /metrics' count line of the requests to /query
// whose handler has returned ("" before the first): a WebSocket
// connection's is counted once the server let it go.
func queryRequestsServed(t *testing.T, e *env) string {
	t.Helper()
	res, err := http.Get(e.srv.URL + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	return regexp.MustCompile(`(?m)^custgraph_http_request_duration_seconds_count\{[^}]*route="/query"[^}]*\} (\S+)$`).FindString(string(body))
}

// dialTWS opens a graphql-transport-ws connection to e's /query.
func dialTWS(t *testing.T, e *env) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/query", nil)
	require.NoError(t, err)
	res.Body.Close()
	t.Cleanup(func() { conn.Close() })
	return conn
}
