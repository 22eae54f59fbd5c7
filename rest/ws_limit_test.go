package rest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// TestWebSocketMessageLimit: a WebSocket message is bounded as an HTTP
// body is (1 MiB by default): the server closes a connection whose client
// sends a longer one, in one frame or in many, before it reads the
// message's payload; credentials or not. A message within the bound is
// answered as always.
func TestWebSocketMessageLimit(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	dial := func(writeBuffer int) *websocket.Conn {
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second, WriteBufferSize: writeBuffer}
		conn, res, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/query", nil)
		require.NoError(t, err)
		res.Body.Close()
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second))) // a guard against hanging, not a measure
		return conn
	}
	long := strings.Repeat("x", 2<<20)
	for _, c := range []struct {
		name        string
		writeBuffer int // gorilla sends a message in frames of this size
		payload     map[string]any
		acked       bool
	}{
		{"within the bound", 0, map[string]any{"Authorization": writer, "pad": strings.Repeat("x", 512<<10)}, true},
		{"one frame, no credentials", 4 << 20, map[string]any{"pad": long}, false},
		{"many frames", 1024, map[string]any{"Authorization": writer, "pad": long}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(c.writeBuffer)
			defer conn.Close()
			_ = conn.WriteJSON(map[string]any{"type": "connection_init", "payload": c.payload}) // may fail once the server has closed
			var m map[string]any
			err := conn.ReadJSON(&m)
			if c.acked {
				require.NoError(t, err)
				require.Equal(t, "connection_ack", m["type"])
				return
			}
			require.Error(t, err, "the server answered %v", m)
			require.NotContains(t, err.Error(), "i/o timeout", "closed by the server, not by the deadline")
		})
	}
}
