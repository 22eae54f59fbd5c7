package e2e

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestSIGTERMClosesIdleWebSocketWith1012: a WebSocket connection that holds
// no subscription when the server shuts down is closed with 1012 (Service
// Restart), which graphql-ws's client takes as a reason to connect again,
// and the process waits for its handler, so the access log has its line
// before "stopped cleanly". http.Server.Shutdown does not wait for hijacked
// connections: they were cut when the process ended (1006, no log line).
func TestSIGTERMClosesIdleWebSocketWith1012(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	p := launch(t, ctx, buildBinary(t), "--database-url", filepath.Join(t.TempDir(), "ws.db"),
		"--drain-delay", "0s", "--shutdown-timeout", "20s")
	token := p.accessToken(t)
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, res, err := d.DialContext(ctx, "ws://"+p.addr+"/query", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	res.Body.Close()
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second)) // a guard against hanging, not a measure
	var ack struct{ Type string }
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %v %+v", err, ack)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	for {
		var m map[string]any
		if err = conn.ReadJSON(&m); err != nil {
			break
		}
		if m["type"] != "ping" {
			t.Fatalf("only keep-alives before the close, got %v", m)
		}
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1012 {
		t.Fatalf("the connection's end: %v, want close 1012", err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d, want 0\n%s", code, p.stderr.String())
	}
	logs := p.stderr.String()
	upgraded := strings.Index(logs, "path=/query status=101")
	clean := strings.Index(logs, "stopped cleanly")
	if upgraded < 0 || clean < 0 || upgraded > clean {
		t.Fatalf("stderr: want the connection's access log line (status=101), then \"stopped cleanly\":\n%s", logs)
	}
}
