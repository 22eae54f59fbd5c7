package graph

import (
	"encoding/json"
	"time"
)

// Before connection_init, graphql-transport-ws lets a client ping (the
// protocol: "The Ping message can be sent at any time within the
// established socket"), and graphql-ws's server answers it, ignores a pong
// and a complete there. gqlgen's transport reads one message before the
// connection is initialised and closes the connection (1002 "unexpected
// message") on anything but connection_init. So, until connection_init is
// read, the client's bytes are held back frame by frame (readBeforeInit):
// a whole text message that is a ping, pong or complete is answered here
// (a pong for a ping, its payload echoed) and never reaches gqlgen's
// transport; every other frame is released to it, through scan, in the
// order it came. Once connection_init is read, the rest is released as it
// comes (Read). Held bytes are bounded: a frame longer than the message
// bound, or a fragmented or binary message, is released at once for scan
// to judge, as before.

// readBeforeInit is Read before connection_init on graphql-transport-ws.
func (c *messageLimit) readBeforeInit(p []byte) (int, error) {
	for {
		if len(c.release) > 0 {
			n := copy(p, c.release)
			c.release = c.release[n:]
			return n, nil
		}
		if c.initSeen { // connection_init was released: the rest goes through scan as it comes
			if len(c.held) == 0 {
				return c.readThrough(p)
			}
			if err := c.releaseHeld(len(c.held)); err != nil {
				return 0, err
			}
			continue
		}
		if frame, whole := c.nextHeldFrame(); whole {
			if err := c.takeFrame(frame); err != nil {
				return 0, err
			}
			continue
		}
		buf := make([]byte, 4096)
		n, err := c.Conn.Read(buf)
		c.held = append(c.held, buf[:n]...)
		if err != nil {
			if len(c.held) > 0 { // what was read goes to gqlgen's transport, then the error
				if e := c.releaseHeld(len(c.held)); e != nil {
					return 0, e
				}
				continue
			}
			return 0, err
		}
	}
}

// releaseHeld moves the first n held bytes to gqlgen's transport, through
// scan.
func (c *messageLimit) releaseHeld(n int) error {
	b := c.held[:n]
	c.held = c.held[n:]
	if e := c.scan(b); e != nil {
		c.err = e
		if e == errMessageTooLarge {
			_ = c.Conn.Close()
		}
		return e
	}
	c.release = append(c.release, b...)
	return nil
}

// nextHeldFrame returns the first held frame's length when it is whole,
// or the length of the held bytes to release at once (a frame over the
// message bound). whole is false while more bytes are needed.
func (c *messageLimit) nextHeldFrame() (int, bool) {
	h := c.held
	if len(h) < 2 {
		return 0, false
	}
	size := headerSize(h[1])
	if len(h) < size {
		return 0, false
	}
	length := payloadLength(h)
	if length > uint64(c.max) {
		return len(h), true
	}
	if uint64(len(h)-size) < length {
		return 0, false
	}
	return size + int(length), true
}

// takeFrame answers the first held frame, of n bytes, when it is a
// ping, pong or complete message, and releases it otherwise.
func (c *messageLimit) takeFrame(n int) error {
	frame := c.held[:n]
	size := headerSize(frame[1])
	// A whole text message, masked (as every client frame is), not over
	// the bound: read it as clientMessage does.
	if frame[0] == 0x81 && frame[1]&0x80 != 0 && uint64(n-size) == payloadLength(frame) {
		key := frame[size-4 : size]
		msg := make([]byte, n-size)
		for i := range msg {
			msg[i] = frame[size+i] ^ key[i&3]
		}
		var m struct {
			ID      string          `json:"id"`
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(msg, &m) == nil && (m.Type == "ping" || m.Type == "pong" || m.Type == "complete") {
			if reason := invalidMessage(m.Type, m.ID, m.Payload); reason != "" {
				c.sendClose(closeBadRequest, "Invalid message received: "+reason)
				c.err = errProtocolViolation
				return c.err
			}
			c.held = c.held[n:]
			if m.Type == "ping" {
				return c.pong(m.Payload)
			}
			return nil
		}
	}
	return c.releaseHeld(n)
}

// controlWriteTimeout bounds the writes of the frames written here rather
// than by gqlgen's transport: a pong before connection_init, and a close
// frame (writeLast). A client that pings without reading the answers
// would otherwise block the write, with the write lock held, and the init
// timeout's close behind it, for as long as it likes (its socket buffers
// full: 4 MB held per connection in an outside check). Such a connection
// is closed.
const controlWriteTimeout = 2 * time.Second

// SetWriteDeadline is gorilla's, which it calls before each frame it
// writes (with none: the zero time): taken under the write lock, it waits
// for a write of ours in progress (pong, writeLast), whose deadline it
// would otherwise clear.
func (c *messageLimit) SetWriteDeadline(t time.Time) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

// pong answers a ping before connection_init, echoing its payload.
func (c *messageLimit) pong(payload json.RawMessage) error {
	msg := []byte(`{"type":"pong"}`)
	if len(payload) > 0 && payload[0] == '{' {
		msg = append(append([]byte(`{"type":"pong","payload":`), payload...), '}')
	}
	var header []byte
	switch {
	case len(msg) < 126:
		header = []byte{0x81, byte(len(msg))}
	case len(msg) < 1<<16:
		header = []byte{0x81, 126, byte(len(msg) >> 8), byte(len(msg))}
	default:
		header = []byte{0x81, 127, 0, 0, 0, 0, byte(len(msg) >> 24), byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed || c.pending != nil || !c.out.boundary() {
		return nil
	}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(controlWriteTimeout))
	_, err := c.Conn.Write(append(header, msg...))
	_ = c.Conn.SetWriteDeadline(time.Time{})
	if err != nil {
		c.closed = true
		c.err = err
		_ = c.Conn.Close()
	}
	return err
}
