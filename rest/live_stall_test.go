package rest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
)

// TestLiveStalledSSEReaderEndsItsStreamOnly: a subscriber over Server-Sent
// Events that reads nothing while its replay fills the socket buffers
// holds the stream's writes; once one has waited the write timeout the
// stream ends, and nothing is written after its handler returned. gqlgen's
// keep-alive tick, waiting behind the stalled write, wrote to the finished
// response once the client went away and ended the whole process with a
// nil dereference (any client with a token could do it); with no write
// timeout the stream also held its connection for as long as the client
// stayed.
func TestLiveStalledSSEReaderEndsItsStreamOnly(t *testing.T) {
	e := newEnv(t, envOptions{live: true, sendBuffer: 4096, liveWrite: 300 * time.Millisecond, liveBeat: 10 * time.Millisecond})
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	from := e.head(t)
	cs := make([]*ent.CustomerCreate, 300)
	for i := range cs {
		cs[i] = e.db.Client.Customer.Create().SetBankID(e.A.ID).SetLegalName(fmt.Sprintf("Replayed %03d %s", i, strings.Repeat("x", 100)))
	}
	require.NoError(t, e.db.Client.Customer.CreateBulk(cs...).Exec(e.sys))

	for round := range 3 {
		// A client with a 1 KiB receive buffer that reads nothing.
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		}}
		conn, err := d.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		require.NoError(t, err)
		body, _ := json.Marshal(map[string]any{"query": changesSub, "variables": map[string]any{"after": from}})
		_, err = fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n"+
			"Authorization: %s\r\nContent-Length: %d\r\n\r\n%s", tok, len(body), body)
		require.NoError(t, err)
		time.Sleep(time.Duration(200+300*round) * time.Millisecond) // before, at and after the write timeout
		require.NoError(t, conn.(*net.TCPConn).SetLinger(0))
		require.NoError(t, conn.Close()) // (a reset)
	}

	// The server is alive, and streams to a client that reads.
	time.Sleep(500 * time.Millisecond)
	res := e.call(t, http.MethodGet, "/healthz", "", nil)
	require.Equal(t, http.StatusOK, res.status)
	lines := bufio.NewReader(postSSE(t, e.srv.URL, tok, changesSub, map[string]any{"after": from}).Body)
	for {
		l, err := lines.ReadString('\n')
		require.NoError(t, err)
		if strings.HasPrefix(l, "event: next") {
			break
		}
	}
}
