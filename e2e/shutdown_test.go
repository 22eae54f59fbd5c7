package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// TestSIGTERMResetsNoRequest races keep-alive clients against SIGTERM, with
// the server's default shutdown settings, over many runs: every request a
// client wrote on a connection the server had accepted must get a complete
// HTTP answer (200 and the query's JSON), never a reset or an EOF.
//
// Each run starts the binary, opens raceClients connections and sends one
// request on each, so that every connection is an idle keep-alive one. Then
// every client sends its next request at a small random offset from the
// signal, before or after it, which puts requests on idle connections in the
// same instant as SIGTERM (what reset one run in six before the drain period,
// issue 14), and goes on sending with short random pauses, opening a new
// connection whenever an answer says "Connection: close".
//
// The test plays the load balancer too: it polls /readyz, and a random time
// after /readyz says 503, at most raceLBLag, takes the server out of rotation:
// from then on a client that needs a new connection goes elsewhere (stops).
// Until then new connections must be accepted. The drain period
// (--drain-delay) is the time a load balancer gets to do this; a client that
// still opens connections when it ends would race the listener's close, which
// no server can make safe.
func TestSIGTERMResetsNoRequest(t *testing.T) {
	bin := buildBinary(t)
	for run := range raceRuns {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			t.Parallel()
			raceSIGTERM(t, bin)
		})
	}
}

const (
	raceRuns    = 8
	raceClients = 24
	// raceLBLag is how long the test's load balancer may take to stop
	// routing new connections after /readyz says 503: well within the
	// default drain period (5s).
	raceLBLag = 3 * time.Second
)

// raceStats counts what the clients of one run saw.
type raceStats struct {
	sent, afterSignal, afterReadyz, closed, left atomic.Int64
}

func raceSIGTERM(t *testing.T, bin string) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// Default settings but for the per-caller limits (requests per minute,
	// requests in flight), which the clients' thousands of requests as one
	// caller, 24 at a time, would meet.
	p := launch(t, ctx, bin, "--database-url", filepath.Join(t.TempDir(), "r.db"), "--rate-limit", "0",
		"--max-concurrent-per-caller", "0")
	token := p.accessToken(t)
	probe := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if code := readyz(probe, p); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d, want 200", code)
	}

	var (
		stats         raceStats
		signalled     atomic.Bool // SIGTERM was sent
		notReady      atomic.Bool // the test saw /readyz answer 503
		outOfRotation atomic.Bool // the test's load balancer sends no new connections
		fire          = make(chan struct{})
		wg            sync.WaitGroup
		failures      = make(chan string, raceClients+1)
		ready         = make(chan *raceConn, raceClients)
	)
	for range raceClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialRace(p, token)
			if err == nil {
				err = c.do(&stats, &signalled, &notReady) // now an idle keep-alive connection
			}
			if err != nil {
				failures <- "warming up: " + err.Error()
				ready <- nil
				return
			}
			ready <- c
			<-fire
			time.Sleep(rand.N(2 * time.Millisecond))
			for {
				if c == nil {
					if outOfRotation.Load() {
						stats.left.Add(1)
						return
					}
					if c, err = dialRace(p, token); err != nil {
						failures <- "opening a connection while the server is in rotation: " + err.Error()
						return
					}
				}
				if err := c.do(&stats, &signalled, &notReady); err != nil {
					failures <- err.Error()
					return
				}
				if c.closed {
					c = nil
				}
				time.Sleep(rand.N(5 * time.Millisecond))
			}
		}()
	}
	for range raceClients {
		if c := <-ready; c == nil {
			close(fire)
			outOfRotation.Store(true)
			wg.Wait()
			t.Fatal(<-failures)
		}
	}
	close(fire)
	time.Sleep(rand.N(2 * time.Millisecond))
	signalled.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	// The load balancer.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer outOfRotation.Store(true)
		for deadline := time.Now().Add(10 * time.Second); ; {
			if readyz(probe, p) == http.StatusServiceUnavailable {
				notReady.Store(true)
				break
			}
			if time.Now().After(deadline) {
				failures <- "/readyz did not answer 503 within 10s of SIGTERM"
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(rand.N(raceLBLag))
	}()
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("a request that reached the server got no complete answer: %s", f)
	}
	code := p.wait(t, 60*time.Second)
	t.Logf("%d requests answered, %d sent after SIGTERM, %d after /readyz said 503, %d answers with Connection: close, %d clients went elsewhere; exit %d",
		stats.sent.Load(), stats.afterSignal.Load(), stats.afterReadyz.Load(), stats.closed.Load(), stats.left.Load(), code)
	if code != 0 || !strings.Contains(p.stderr.String(), "stopped cleanly") {
		t.Errorf("exit status %d, want 0 and \"stopped cleanly\"; last log line: %s", code, lastLine(p.stderr.String()))
	}
	if stats.afterSignal.Load() < raceClients {
		t.Errorf("%d requests were sent after SIGTERM, want at least one per client: the race was not run", stats.afterSignal.Load())
	}
}

// readyz answers the status of GET /readyz on a new connection, or 0.
func readyz(c *http.Client, p *process) int {
	resp, err := c.Get(p.base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// raceConn is one client connection of TestSIGTERMResetsNoRequest.
type raceConn struct {
	conn   net.Conn
	br     *bufio.Reader
	head   string
	n      int  // requests sent on it
	closed bool // the last answer said Connection: close (the connection is closed)
}

func dialRace(p *process, token string) (*raceConn, error) {
	conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("POST /query HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", p.addr, token, len(shutdownBody))
	return &raceConn{conn: conn, br: bufio.NewReader(conn), head: head + shutdownBody}, nil
}

// do sends one request and reads its answer in full; any error means the
// request, written on an accepted connection, got no complete answer.
//
// Every answer to a request sent after /readyz said 503 must say
// "Connection: close": the server is draining.
func (c *raceConn) do(stats *raceStats, signalled, notReady *atomic.Bool) error {
	c.n++
	// A bound for the write and the read, not an assertion.
	if err := c.conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	after, draining := signalled.Load(), notReady.Load()
	fail := func(what string, err error) error {
		c.conn.Close()
		return fmt.Errorf("%s (request %d on %s, local %s, sent after SIGTERM: %v): %w",
			what, c.n, map[bool]string{true: "a reused connection", false: "a new connection"}[c.n > 1],
			c.conn.LocalAddr(), after, err)
	}
	if _, err := io.WriteString(c.conn, c.head); err != nil {
		return fail("writing the request", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return fail("reading the answer", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fail("reading the answer's body", err)
	}
	var result banksReply
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &result) != nil ||
		result.Data.Banks.TotalCount == nil || len(result.Errors) > 0 {
		return fail("answer", fmt.Errorf("%s %s", resp.Status, body))
	}
	stats.sent.Add(1)
	if after {
		stats.afterSignal.Add(1)
	}
	if draining {
		stats.afterReadyz.Add(1)
		if !resp.Close {
			return fail("answer", fmt.Errorf("no Connection: close while draining: %s", resp.Header))
		}
	}
	if resp.Close {
		stats.closed.Add(1)
		c.closed = true
		c.conn.Close()
	}
	return nil
}
