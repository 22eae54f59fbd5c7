package graph

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// A WebSocket message is bounded as an HTTP body is (Options.MaxBodyBytes):
// gqlgen's WebSocket transport reads each message whole, and gorilla's
// connection, which could refuse a long one (SetReadLimit), is out of reach
// inside it. So the connection handed to the upgrade is read through
// messageLimit, which follows the frames' headers (RFC 6455 §5.2) and cuts
// the connection at the header of the frame that takes a message past the
// bound, before its payload is read. Without it, one 150 MB connection_init,
// sent before any credentials, took a server from 237 to 621 MiB.

// errMessageTooLarge ends a connection whose client sent a message over the
// bound.
var errMessageTooLarge = errors.New("graph: WebSocket message over the size limit")

// limitedUpgrade is the ResponseWriter of a WebSocket upgrade: its Hijack
// returns the connection read through messageLimit.
type limitedUpgrade struct {
	http.ResponseWriter
	max          int64
	writeTimeout time.Duration // Live.WriteTimeout
	live         *liveConn     // told of the connection (wsrefuse.go)
}

func (w limitedUpgrade) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	ml := &messageLimit{Conn: c, max: w.max, writeTimeout: w.writeTimeout}
	if w.live != nil {
		w.live.ws = ml
	}
	return ml, rw, nil
}

func (w limitedUpgrade) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// messageLimit is a client's WebSocket connection that fails its reads once
// the client sends a data message of more than max bytes (its frames'
// payloads summed; control frames are at most 125 bytes by the RFC).
type messageLimit struct {
	net.Conn
	max          int64
	writeTimeout time.Duration // for each write of gqlgen's frames (writeData)

	header    [14]byte // the frame header being read
	have      int      // bytes of it read
	want      int      // its length, once its first two bytes are read
	remaining uint64   // payload bytes of the current frame left to read
	message   uint64   // payload bytes of the current data message so far
	err       error

	answered bool   // the upgrade's response is written
	protocol string // its subprotocol (wsrefuse.go)

	// graphql-transport-ws only (wsrefuse.go): the client's data messages,
	// unmasked, and the protocol's state they lead to.
	tws      bool    // protocol is graphql-transport-ws
	collect  bool    // the current client frame is a data frame, collected
	fin      bool    // it ends its message
	key      [4]byte // its masking key
	offset   uint64  // its payload bytes read so far
	msg      []byte  // the data message being read, unmasked
	initSeen bool    // a connection_init was read
	held     []byte  // before connection_init: the client's bytes not yet released (wsbeforeinit.go)
	release  []byte  // released bytes gqlgen's transport has not read yet

	ids     sync.Mutex          // guards active (read and write sides)
	active  map[string]struct{} // the ids of the operations running
	longest atomic.Int64        // the longest id ever active, in bytes

	wmu     sync.Mutex // serialises the writes below and the state of the server's frames
	out     serverFrames
	closed  bool   // a close frame was written: later writes are dropped
	pending []byte // a close frame to write at the end of the server's current frame
}

func (c *messageLimit) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.tws && (!c.initSeen || len(c.held) > 0 || len(c.release) > 0) {
		return c.readBeforeInit(p)
	}
	return c.readThrough(p)
}

// readThrough reads the client's next bytes and follows them (scan).
func (c *messageLimit) readThrough(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if e := c.scan(p[:n]); e != nil {
		c.err = e
		if e == errMessageTooLarge {
			_ = c.Conn.Close()
		} // else a close frame is written or pending: gqlgen's transport returns on the error, and the connection is closed after it (Live.wrap)
		return 0, e
	}
	return n, err
}

// scan follows the frames in b, the next bytes the client sent.
func (c *messageLimit) scan(b []byte) error {
	for len(b) > 0 {
		if c.remaining > 0 {
			k := min(uint64(len(b)), c.remaining)
			if c.collect {
				c.unmask(b[:k])
			}
			c.remaining -= k
			b = b[k:]
			if c.remaining == 0 && c.collect && c.fin {
				if err := c.endMessage(); err != nil {
					return err
				}
			}
			continue
		}
		c.header[c.have] = b[0]
		c.have++
		b = b[1:]
		if c.have == 2 {
			c.want = headerSize(c.header[1]) // (masked: every client frame is)
		}
		if c.have < 2 || c.have < c.want {
			continue
		}
		length := payloadLength(c.header[:])
		if opcode := c.header[0] & 0x0f; opcode < 8 { // text, binary or a continuation
			if opcode != 0 {
				c.message = 0
			}
			if length > uint64(c.max) || c.message+length > uint64(c.max) {
				return errMessageTooLarge
			}
			c.message += length
			if c.tws {
				c.startFrame(opcode != 0)
			}
		} else {
			c.collect = false
		}
		c.remaining, c.have, c.want = length, 0, 0
		if length == 0 && c.collect && c.fin {
			if err := c.endMessage(); err != nil {
				return err
			}
		}
	}
	return nil
}

// headerSize is the length of a frame header (RFC 6455 §5.2) whose second
// byte is b1: 2, plus the extended payload length, plus the masking key.
func headerSize(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// payloadLength is the payload length a whole frame header h gives.
func payloadLength(h []byte) uint64 {
	switch n := uint64(h[1] & 0x7f); n {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return binary.BigEndian.Uint64(h[2:10])
	default:
		return n
	}
}

// writeData writes b, bytes of gqlgen's frames, within writeTimeout: gqlgen
// and gorilla write with no deadline, so a client that stops reading held
// the write, the goroutine and the connection (with its socket buffers
// full) for as long as it stayed connected. Past the timeout the connection
// is closed: gqlgen's transport only reports a write error, and would go
// on reading.
func (c *messageLimit) writeData(b []byte) (int, error) {
	if c.writeTimeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	}
	n, err := c.Conn.Write(b)
	if err != nil {
		_ = c.Conn.Close()
	}
	return n, err
}
