package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
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

// Close codes of a refused connection_init, and of the graphql-transport-ws
// protocol's violations (its PROTOCOL.md), where gqlgen's transport closes
// with 1002 (or not at all) and says less.
const (
	closeForbidden      = 4403 // graphql-transport-ws: the connection_init is rejected
	closeTryAgainLater  = 1013 // RFC 6455 registry: the server is busy (too many connections)
	closeServiceRestart = 1012 // RFC 6455 registry: the server is restarting (shutting down): connect again
	closeBadRequest     = 4400 // graphql-transport-ws: an invalid message
	closeUnauthorized   = 4401 // graphql-transport-ws: subscribe before connection_init
	closeInitTimeout    = 4408 // graphql-transport-ws: no connection_init in time
	closeSubscriberDup  = 4409 // graphql-transport-ws: subscribe with the id of a running operation
	closeTooManyInits   = 4429 // graphql-transport-ws: a second connection_init
)

const transportWS = "graphql-transport-ws"

// refuse sends a close frame with code and reason on a graphql-transport-ws
// connection (the older graphql-ws subprotocol has connection_error, which
// gqlgen sends).
func (c *liveConn) refuse(code uint16, reason string) {
	if c.ws == nil || c.ws.protocol != transportWS {
		return
	}
	c.ws.sendClose(code, reason)
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

// Write notes the subprotocol the upgrade's response chose. On
// graphql-transport-ws it follows the server's frames (writeTWS).
func (c *messageLimit) Write(p []byte) (int, error) {
	if !c.answered {
		c.answered = true
		c.protocol = subprotocolOf(p)
		c.tws = c.protocol == transportWS
		return c.Conn.Write(p)
	}
	if !c.tws {
		return c.writeData(p)
	}
	return c.writeTWS(p)
}

// The graphql-transport-ws protocol's violations are found in the
// client's messages as messageLimit reads them (scan, which unmasks and
// collects each data message, already bounded by max), before gqlgen's
// transport reads them: the connection is then closed with the
// protocol's code and reason (sendClose), the read fails, and gqlgen's
// transport returns without reading the message; its own close frame,
// and whatever it writes after ours, is dropped. Its transport reads the
// messages one at a time and acknowledges connection_init before reading
// the next, so the state scan keeps is the one the transport would have
// when it read the message (a subscribe sent right after connection_init,
// before its ack, is run once it is acknowledged, as before). A ping, pong
// or complete before connection_init never reaches gqlgen's transport
// (wsbeforeinit.go).
//
// A close frame is written between two of the server's frames: when the
// violation is read while gorilla writes one in two writes (a message
// longer than its buffer), it is written after the second.
//
// An operation's id is free again once the client sends complete for it,
// or the server complete or error: the server's frames are followed
// (serverFrames) and the end of each text message it writes is kept (as
// many bytes as the longest id needs), where gqlgen writes the id and the
// type last ({"payload":…,"id":"1","type":"error"}). Next messages, the
// bulk, cost a header's parsing and a copy of their last bytes. An id is
// freed at most too early (a complete from an earlier operation with that
// id, written after the client reused it): then a duplicate goes
// unrefused, as gqlgen's transport always let it, and a client that keeps
// to the protocol is never refused.
//
// A message of the wrong shape (invalidMessage: a subscribe without an id
// or a query, a payload that is not an object) is refused with 4400, as
// graphql-ws's own server does, rather than answered with an error
// message, run, or (a connection_init's) dropped without a close frame.

// errProtocolViolation ends the reads of a connection closed for a
// violation of graphql-transport-ws.
var errProtocolViolation = errors.New("graph: graphql-transport-ws protocol violation")

// startFrame starts collecting a client data frame (first: it starts a
// message) whose header is c.header[:c.want].
func (c *messageLimit) startFrame(first bool) {
	c.collect, c.fin, c.offset = true, c.header[0]&0x80 != 0, 0
	c.key = [4]byte{}
	if c.header[1]&0x80 != 0 {
		copy(c.key[:], c.header[c.want-4:c.want])
	}
	if first {
		c.msg = c.msg[:0]
	}
}

// unmask appends b, payload bytes of the current frame, to the message.
func (c *messageLimit) unmask(b []byte) {
	start := len(c.msg)
	c.msg = append(c.msg, b...)
	for i := start; i < len(c.msg); i++ {
		c.msg[i] ^= c.key[c.offset&3]
		c.offset++
	}
}

// endMessage handles the client's message just read: a violation closes
// the connection.
func (c *messageLimit) endMessage() error {
	code, reason := c.clientMessage(c.msg)
	if cap(c.msg) > 64<<10 {
		c.msg = nil // a long subscribe's buffer is not kept for the connection's life
	} else {
		c.msg = c.msg[:0]
	}
	c.collect = false
	if code == 0 {
		return nil
	}
	c.sendClose(code, reason)
	return errProtocolViolation
}

// clientMessage returns the close code and reason a client's message
// calls for, 0 for none, and keeps the protocol's state.
func (c *messageLimit) clientMessage(b []byte) (uint16, string) {
	// As gqlgen's transport decodes it (the same fields; it reads the
	// first JSON value only).
	var m struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		m.ID, m.Type, m.Payload = "", "", nil
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return closeBadRequest, "Invalid message received: not JSON"
			}
			return closeBadRequest, "Invalid message received: not a message object"
		}
	}
	if reason := invalidMessage(m.Type, m.ID, m.Payload); reason != "" {
		return closeBadRequest, "Invalid message received: " + reason
	}
	switch m.Type {
	case "connection_init":
		if c.initSeen {
			return closeTooManyInits, "Too many initialisation requests"
		}
		c.initSeen = true
	case "subscribe":
		if !c.initSeen {
			return closeUnauthorized, "Unauthorized"
		}
		c.ids.Lock()
		defer c.ids.Unlock()
		if _, ok := c.active[m.ID]; ok {
			return closeSubscriberDup, "Subscriber for " + m.ID + " already exists"
		}
		if c.active == nil {
			c.active = map[string]struct{}{}
		}
		c.active[m.ID] = struct{}{}
		if int64(len(m.ID)) > c.longest.Load() {
			c.longest.Store(int64(len(m.ID)))
		}
	case "complete":
		c.ids.Lock()
		delete(c.active, m.ID)
		c.ids.Unlock()
	case "ping", "pong":
		// gqlgen's transport answers them (before connection_init,
		// readBeforeInit does)
	}
	return 0, ""
}

// invalidMessage says what makes a client's message of type typ invalid
// in the graphql-transport-ws protocol (the shape graphql-ws's server
// checks before it acts on one), "" when nothing does; payload and the
// fields inside it are as json.RawMessage holds them (nil when absent).
func invalidMessage(typ, id string, payload json.RawMessage) string {
	switch typ {
	case "connection_init", "ping", "pong":
		if !objectOrNull(payload) {
			return typ + "'s payload is not an object"
		}
	case "subscribe":
		if id == "" { // gqlgen's transport would run it, and its messages could not be told apart
			return "subscribe without an id"
		}
		var p struct {
			Query         json.RawMessage `json:"query"`
			Variables     json.RawMessage `json:"variables"`
			OperationName json.RawMessage `json:"operationName"`
			Extensions    json.RawMessage `json:"extensions"`
		}
		switch {
		case len(payload) == 0 || payload[0] != '{' || json.Unmarshal(payload, &p) != nil:
			return "subscribe's payload is not an object"
		case (len(p.Query) == 0 || p.Query[0] == 'n') && persistedQuery(p.Extensions):
			// an automatic persisted query sent by its hash alone (README,
			// "Persisted queries"): gqlgen's APQ finds the text, or answers
			// PersistedQueryNotFound for the client to send it
		case len(p.Query) == 0 || p.Query[0] != '"':
			return "subscribe's query is not a string"
		case !objectOrNull(p.Variables):
			return "subscribe's variables are not an object"
		case len(p.OperationName) > 0 && p.OperationName[0] != '"' && p.OperationName[0] != 'n':
			return "subscribe's operationName is not a string"
		case !objectOrNull(p.Extensions):
			return "subscribe's extensions are not an object"
		}
	case "complete":
		if id == "" {
			return "complete without an id"
		}
	case "":
		return "no type"
	default:
		return fmt.Sprintf("unexpected type %q", typ)
	}
	return ""
}

// persistedQuery reports whether extensions, a subscribe's, holds an
// automatic persisted query's persistedQuery object.
func persistedQuery(extensions json.RawMessage) bool {
	var e struct {
		PersistedQuery json.RawMessage `json:"persistedQuery"`
	}
	return len(extensions) > 0 && extensions[0] == '{' && json.Unmarshal(extensions, &e) == nil &&
		len(e.PersistedQuery) > 0 && e.PersistedQuery[0] == '{'
}

// objectOrNull reports whether v, a JSON value or nil, is absent, null or
// an object.
func objectOrNull(v json.RawMessage) bool {
	return len(v) == 0 || v[0] == '{' || v[0] == 'n'
}

// sendClose writes a close frame with code and reason, at the end of the
// server's frame being written if one is; nothing is written after it.
func (c *messageLimit) sendClose(code uint16, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed || c.pending != nil {
		return
	}
	f := closeFrame(code, reason)
	if !c.out.boundary() {
		c.pending = f
		return
	}
	c.writeLast(f)
}

// writeLast writes f, the connection's last frame (a close frame), within
// controlWriteTimeout: a client that reads nothing does not hold the write
// lock, and the connection, past it.
func (c *messageLimit) writeLast(f []byte) error {
	c.closed = true
	_ = c.Conn.SetWriteDeadline(time.Now().Add(controlWriteTimeout))
	_, err := c.Conn.Write(f)
	return err
}

// gqlgen's close frame when no connection_init came in time.
var gqlgenInitTimeout = closeFrame(1002, "connection initialisation timeout")

// writeTWS writes p, bytes of the server's frames, on a graphql-transport-ws
// connection.
func (c *messageLimit) writeTWS(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return len(p), nil
	}
	if c.pending == nil && c.out.boundary() && len(p) >= 2 && p[0]&0x0f == 0x8 {
		// A close frame (gorilla writes one whole).
		f := p
		if bytes.Equal(p, gqlgenInitTimeout) {
			f = closeFrame(closeInitTimeout, "Connection initialisation timeout")
		}
		if err := c.writeLast(f); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	k := c.follow(p, c.pending != nil)
	n, err := c.writeData(p[:k])
	if err != nil {
		return n, err
	}
	if c.pending != nil && c.out.boundary() {
		err = c.writeLast(c.pending)
		c.pending = nil
	}
	return len(p), err
}

// serverFrames follows the frames the server writes (unmasked).
type serverFrames struct {
	header    [14]byte
	have      int
	want      int
	remaining uint64
	data      bool   // the current frame is a data frame
	fin       bool   // that ends its message
	tail      []byte // the last bytes of the current data message
}

func (s *serverFrames) boundary() bool { return s.have == 0 && s.remaining == 0 }

// follow follows b, the server's next bytes, and returns how many it
// followed: all, or with stop those up to the end of the current frame.
func (c *messageLimit) follow(b []byte, stop bool) int {
	s := &c.out
	n := 0
	for n < len(b) {
		if s.remaining > 0 {
			k := int(min(uint64(len(b)-n), s.remaining))
			if s.data {
				c.keepTail(b[n : n+k])
			}
			s.remaining -= uint64(k)
			n += k
			if s.remaining == 0 {
				if s.data && s.fin {
					c.endServerMessage()
				}
				if stop {
					return n
				}
			}
			continue
		}
		s.header[s.have] = b[n]
		s.have++
		n++
		if s.have == 2 {
			s.want = headerSize(s.header[1])
		}
		if s.have < 2 || s.have < s.want {
			continue
		}
		length := payloadLength(s.header[:])
		opcode := s.header[0] & 0x0f
		s.data, s.fin = opcode < 8, s.header[0]&0x80 != 0
		if opcode == 1 || opcode == 2 {
			s.tail = s.tail[:0]
		}
		s.remaining, s.have, s.want = length, 0, 0
		if length == 0 {
			if s.data && s.fin {
				c.endServerMessage()
			}
			if stop {
				return n
			}
		}
	}
	return n
}

// keepTail keeps the last bytes of the server's message: enough for the
// end of a complete or error message with the longest active id (its JSON
// string at most six bytes for each of the id's bytes).
func (c *messageLimit) keepTail(b []byte) {
	keep := 6*int(c.longest.Load()) + 64
	s := &c.out
	if len(b) >= keep {
		s.tail = append(s.tail[:0], b[len(b)-keep:]...)
		return
	}
	if len(s.tail)+len(b) > 2*keep {
		drop := len(s.tail) + len(b) - keep
		s.tail = s.tail[:copy(s.tail, s.tail[drop:])]
	}
	s.tail = append(s.tail, b...)
}

var (
	completeEnd = []byte(`,"type":"complete"}`)
	errorEnd    = []byte(`,"type":"error"}`)
	idKey       = []byte(`"id":"`)
)

// endServerMessage frees the id of a complete or error message the server
// wrote: {…"id":"<id>","type":"complete"} (an id's JSON string holds no
// unescaped quote, so the last "id":" is its key).
func (c *messageLimit) endServerMessage() {
	t := bytes.TrimRight(c.out.tail, " \t\r\n")
	switch {
	case bytes.HasSuffix(t, completeEnd):
		t = t[:len(t)-len(completeEnd)]
	case bytes.HasSuffix(t, errorEnd):
		t = t[:len(t)-len(errorEnd)]
	default:
		return
	}
	i := bytes.LastIndex(t, idKey)
	if i < 0 {
		return
	}
	var id string
	if json.Unmarshal(t[i+len(idKey)-1:], &id) != nil {
		return
	}
	c.ids.Lock()
	delete(c.active, id)
	c.ids.Unlock()
}

var _ net.Conn = (*messageLimit)(nil)
