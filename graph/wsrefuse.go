package graph

import (
	"bytes"
	"net"
	"unicode/utf8"
)

// A refused connection_init is closed with the graphql-transport-ws
// protocol's own code, 4403 Forbidden (or 1013 Try Again Later when the
// caller holds too many connections), not with gqlgen's 1000 "terminated":
// graphql-ws's client takes a normal closure of a connection with active
// subscriptions as a reason to reconnect at once, so a dashboard whose
// token had expired reconnected in a tight loop (1,200 times in 2 s in an
// outside check) until the per-address rate limit refused it. With 4403
// it reports the closure and retries only with its back-off, asking its
// connectionParams (a fresh token) again each time.
//
// gqlgen writes its own close frame after the refusal; this one goes
// first, on the upgraded connection itself, while nothing else writes to
// it (connection_init is read before gqlgen starts its keep-alives).

// Close codes of a refused connection_init.
const (
	closeForbidden     = 4403 // graphql-transport-ws: the connection_init is rejected
	closeTryAgainLater = 1013 // RFC 6455 registry: the server is busy (too many connections)
	closeBadRequest    = 4400 // graphql-transport-ws: an invalid message
)

const transportWS = "graphql-transport-ws"

// refuse sends a close frame with code and reason on a graphql-transport-ws
// connection (the older graphql-ws subprotocol has connection_error, which
// gqlgen sends).
func (c *liveConn) refuse(code uint16, reason string) {
	if c.ws == nil || c.ws.protocol != transportWS {
		return
	}
	_, _ = c.ws.Conn.Write(closeFrame(code, reason))
}

// closeFrame is an unmasked close frame (RFC 6455 §5.5.1): a control
// frame's payload is at most 125 bytes, the code's 2 and the reason's 123,
// cut at a rune boundary.
func closeFrame(code uint16, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	return append([]byte{0x88, byte(2 + len(reason)), byte(code >> 8), byte(code)}, reason...)
}

// subprotocolOf returns the Sec-WebSocket-Protocol of the upgrade's
// response (the first bytes written to the upgraded connection), "" for
// none.
func subprotocolOf(response []byte) string {
	end := bytes.Index(response, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(response)
	}
	for _, line := range bytes.Split(response[:end], []byte("\r\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Sec-WebSocket-Protocol")) {
			return string(bytes.TrimSpace(value))
		}
	}
	return ""
}

// Write notes the subprotocol the upgrade's response chose.
func (c *messageLimit) Write(p []byte) (int, error) {
	if !c.answered {
		c.answered = true
		c.protocol = subprotocolOf(p)
	}
	return c.Conn.Write(p)
}

var _ net.Conn = (*messageLimit)(nil)
