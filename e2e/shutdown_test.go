package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shutdownBody is the in-flight request of the shutdown tests; it is sent in
// two parts, split at shutdownSplit.
const (
	shutdownBody  = `{"query":"{ banks { totalCount } }"}`
	shutdownSplit = 10
)

// TestGracefulShutdownDrainsInFlightRequests sends SIGTERM while a request
// is in the handler, waiting for the rest of its body, and checks that the
// server stops accepting connections, still answers that request in full,
// and then exits 0 with "stopped cleanly".
//
// Nothing here depends on timing: the request is known to be in the handler
// because the server sent "100 Continue", which net/http does only when the
// handler first reads the body; shutdown is known to have begun because new
// connections are refused, which happens when Shutdown closes the listener.
func TestGracefulShutdownDrainsInFlightRequests(t *testing.T) {
	p, conn, br, req := termDuringRequest(t, "20s")

	// Shutdown has begun and is waiting for this request: finish it.
	if _, err := io.WriteString(conn, shutdownBody[shutdownSplit:]); err != nil {
		t.Fatalf("writing the rest of the body: %v", err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("reading the response of the in-flight request: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the response body (%d bytes so far): %v\n%s", len(body), err, body)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight request: status %s, want 200\n%s", resp.Status, body)
	}
	var result banksReply
	if err := json.Unmarshal(body, &result); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, body)
	}
	if tc := result.Data.Banks.TotalCount; tc == nil || *tc != 0 || len(result.Errors) > 0 {
		t.Fatalf("response: want totalCount 0 and no errors, got\n%s", body)
	}
	// net/http adds "Connection: close" to responses written after Shutdown
	// began, so this also shows the answer came from the draining server.
	if !resp.Close {
		t.Errorf("response lacks Connection: close; was it written before shutdown began? header: %v", resp.Header)
	}
	t.Logf("in-flight request answered during shutdown: %s %s", resp.Status, body)

	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	logs := p.stderr.String()
	drain := strings.Index(logs, "shutting down: draining in-flight requests")
	served := strings.Index(logs, "path=/query status=200")
	clean := strings.Index(logs, "stopped cleanly")
	switch {
	case clean < 0:
		t.Fatalf(`stderr lacks "stopped cleanly":\n%s`, logs)
	case drain < 0 || served < 0:
		t.Fatalf("stderr lacks the drain or the request's access log line:\n%s", logs)
	case !(drain < served && served < clean):
		t.Fatalf("stderr: want drain, then the request, then \"stopped cleanly\":\n%s", logs)
	}
}

// TestShutdownTimeoutEndsStuckRequest checks that a request whose body never
// arrives does not keep the process alive past --shutdown-timeout: the
// process gives up on it and exits, reporting the failed drain with a
// non-zero status rather than "stopped cleanly".
func TestShutdownTimeoutEndsStuckRequest(t *testing.T) {
	p, _, br, req := termDuringRequest(t, "1s")

	// The rest of the body is never sent. The bound is far above the 1s
	// shutdown timeout and far below the server's 35s read timeout, so an
	// exit within it is the shutdown timeout's doing.
	code := p.wait(t, 30*time.Second)
	logs := p.stderr.String()
	if code == 0 {
		t.Errorf("exit status 0 after abandoning an in-flight request; want non-zero\n%s", logs)
	}
	if strings.Contains(logs, "stopped cleanly") {
		t.Errorf("stderr claims \"stopped cleanly\" although a request was abandoned:\n%s", logs)
	}
	t.Logf("exit status %d; last log line: %s", code, lastLine(logs))

	// The abandoned client gets no HTTP response, only the closed connection.
	if resp, err := http.ReadResponse(br, req); err == nil {
		resp.Body.Close()
		t.Errorf("abandoned request got a response: %s", resp.Status)
	} else {
		t.Logf("abandoned client reads: %v", err)
	}
}

// termDuringRequest starts the server with the given --shutdown-timeout,
// gets the administrator's access token, opens a request whose body is half
// sent, sends SIGTERM and waits until the listener is closed. The process
// lives until the test's context (2 min).
func termDuringRequest(t *testing.T, shutdownTimeout string) (*process, net.Conn, *bufio.Reader, *http.Request) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	p := launch(t, ctx, buildBinary(t),
		"--database-url", filepath.Join(t.TempDir(), "s.db"),
		"--shutdown-timeout", shutdownTimeout)
	// The token comes first: once the request below is in flight, the
	// next thing the server sees must be SIGTERM.
	token := p.accessToken(t)
	conn, br, req := startRequest(t, p, token)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	waitRefused(t, p, 10*time.Second)
	return p, conn, br, req
}

// startRequest opens a raw connection to p, sends a POST /query with
// "Authorization: Bearer token" and "Expect: 100-continue", waits for the
// server's "100 Continue" (sent when the handler starts reading the body, so
// the request is then in flight) and sends the first shutdownSplit bytes of
// shutdownBody. It returns the connection, its reader and the request for
// http.ReadResponse.
func startRequest(t *testing.T, p *process, token string) (net.Conn, *bufio.Reader, *http.Request) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", p.addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	// A bound for every read and write below, not an assertion.
	if err := conn.SetDeadline(time.Now().Add(90 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, p.base+"/query", nil)
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("POST /query HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		p.addr, token, len(shutdownBody))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatalf("writing the request head: %v", err)
	}
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("waiting for 100 Continue: %v", err)
	}
	cont.Body.Close()
	if cont.StatusCode != http.StatusContinue {
		body, _ := io.ReadAll(cont.Body)
		t.Fatalf("want 100 Continue, got %s\n%s", cont.Status, body)
	}
	if _, err := io.WriteString(conn, shutdownBody[:shutdownSplit]); err != nil {
		t.Fatalf("writing the first part of the body: %v", err)
	}
	return conn, br, req
}

// waitRefused polls until a new connection to p is refused, which shows
// that Shutdown has closed the listener. It fails the test if that does not
// happen within d or if the process exits first.
func waitRefused(t *testing.T, p *process, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for attempts := 1; ; attempts++ {
		if p.exited() {
			t.Fatalf("custgraph exited (%v) before its listener was seen closed", p.err)
		}
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
		} else if errors.Is(err, syscall.ECONNREFUSED) {
			t.Logf("new connections refused after %d attempt(s): %v", attempts, err)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections to %s still not refused %v after SIGTERM (last dial: %v)", p.addr, d, err)
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
