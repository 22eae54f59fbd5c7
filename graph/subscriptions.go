package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"custgraph/ent"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/changes"
)

// Live configures GraphQL subscriptions (README, "Live changes"): the
// change stream (internal/changes) over graphql-ws on WebSocket (both the
// graphql-transport-ws and the older graphql-ws subprotocol) and over
// Server-Sent Events (POST with Accept: text/event-stream).
//
// Authentication is by the same tokens as every request: on WebSocket in
// the connection_init payload ({"Authorization": "Bearer <token>"}) or the
// upgrade request's Authorization header; on SSE in the request's header.
// The token is checked again (Verify, which the caller cache answers
// without SQL until the caller changes) before each batch of events, so a
// deleted or disabled caller's subscription ends and a revoked role stops
// the events it allowed, at once.
type Live struct {
	Broker *changes.Broker
	// Verify returns the current viewer of a token (authn.Service.Verify).
	// Nil keeps the viewer the connection started with (tests without
	// authentication).
	Verify func(ctx context.Context, token string) (*access.Viewer, error)
	// Token returns the access token a request carries ("" for none).
	Token func(r *http.Request) string
	// MaxSubscriptionsPerConnection bounds the subscriptions one WebSocket
	// connection runs at once; default 10. (An SSE request runs one.)
	MaxSubscriptionsPerConnection int
	// MaxConnectionsPerCaller bounds the WebSocket and SSE connections one
	// caller holds at once on a replica; default 20.
	MaxConnectionsPerCaller int
	// KeepAlive is the period of keep-alive messages; default 15s.
	KeepAlive time.Duration
	// InitTimeout is how long a WebSocket connection may wait for its
	// connection_init; default 10s (then graphql-transport-ws closes it
	// with 4408, wsrefuse.go).
	InitTimeout time.Duration
	// WriteTimeout is how long a message the server writes on a WebSocket
	// connection or a stream of Server-Sent Events may wait for a client
	// that does not read it; default 30s (then the connection is closed:
	// wslimit.go, lockedWriter).
	WriteTimeout time.Duration
	// NodeReadsPerSecond paces the changes delivered with their node
	// selected, per caller on a replica, in bursts of up to twice as many:
	// each such change reads its record (and whatever the operation nests
	// under it), so a replay from an old cursor would otherwise run the
	// whole stream's reads at once, outside every per-request bound.
	// Default 50; changes without node are not paced.
	NodeReadsPerSecond float64

	mu         sync.Mutex
	callers    map[callerID]*liveCaller
	maxMessage int64 // bytes of a WebSocket message: Options.MaxBodyBytes (wslimit.go)
}

type callerID struct {
	kind access.Kind
	id   uuid.UUID
}

// liveCaller is what a caller's live connections on this replica share.
type liveCaller struct {
	conns int
	reads *rate.Limiter // NodeReadsPerSecond
}

func (l *Live) defaults() {
	if l.MaxSubscriptionsPerConnection <= 0 {
		l.MaxSubscriptionsPerConnection = 10
	}
	if l.MaxConnectionsPerCaller <= 0 {
		l.MaxConnectionsPerCaller = 20
	}
	if l.KeepAlive <= 0 {
		l.KeepAlive = 15 * time.Second
	}
	if l.InitTimeout <= 0 {
		l.InitTimeout = 10 * time.Second
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 30 * time.Second
	}
	if l.NodeReadsPerSecond <= 0 {
		l.NodeReadsPerSecond = 50
	}
	l.callers = map[callerID]*liveCaller{}
}

// acquire counts a connection of v; false when v holds the most already.
func (l *Live) acquire(v *access.Viewer) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := callerID{v.Kind, v.ID}
	l.forgetRested()
	c := l.callers[k]
	if c == nil {
		c = &liveCaller{reads: rate.NewLimiter(rate.Limit(l.NodeReadsPerSecond), max(1, int(2*l.NodeReadsPerSecond)))}
		l.callers[k] = c
	}
	if c.conns >= l.MaxConnectionsPerCaller {
		return false
	}
	c.conns++
	return true
}

func (l *Live) release(v *access.Viewer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := callerID{v.Kind, v.ID}
	if c := l.callers[k]; c != nil {
		c.conns--
		// The pace outlives the connections until its bucket is full
		// again: closing and reopening one must not reset it.
		if c.conns <= 0 && c.rested() {
			delete(l.callers, k)
		}
	}
}

// rested: no connection left, and the bucket full (nothing to remember).
func (c *liveCaller) rested() bool {
	return c.conns <= 0 && c.reads.Tokens() >= float64(c.reads.Burst())
}

// forgetRested drops the callers without connections whose pace has
// recovered (l.mu held).
func (l *Live) forgetRested() {
	for k, c := range l.callers {
		if c.rested() {
			delete(l.callers, k)
		}
	}
}

// nodeReads is the pace of v's changes delivered with their node; nil if v
// holds no live connection here.
func (l *Live) nodeReads(v *access.Viewer) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.callers[callerID{v.Kind, v.ID}]; c != nil {
		return c.reads
	}
	return nil
}

// liveConn is one WebSocket or SSE connection.
type liveConn struct {
	token  string
	viewer *access.Viewer // set once authenticated and counted
	ws     *messageLimit  // the upgraded WebSocket connection; nil on SSE
	sse    *lockedWriter  // the stream of a Server-Sent Events connection; nil on WebSocket
	// initReached: connection_init was read and handed to init.
	initReached bool
	done        chan struct{} // (WebSocket) closed when the connection's handler returns
	mu          sync.Mutex
	subs        int
}

type liveConnKey struct{}

func connOf(ctx context.Context) *liveConn {
	c, _ := ctx.Value(liveConnKey{}).(*liveConn)
	return c
}

// IsLive reports whether r opens a long-lived GraphQL connection (a
// WebSocket upgrade or an SSE request), which the per-request timeout must
// not cut.
func IsLive(r *http.Request) bool { return isWebSocket(r) || isSSE(r) }

func isWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// isSSE: a POST that accepts text/event-stream at least as much as JSON
// (Accept: text/event-stream;q=0.5, application/json wants JSON).
func isSSE(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Accept"), mediaEventStream) {
		return false
	}
	_, jsonQ, sseQ := acceptQ(r.Header.Values("Accept"))
	return sseQ > 0 && sseQ >= jsonQ
}

var (
	errTooManyConnections   = &apperr.Error{Code: "TOO_MANY_CONNECTIONS", Message: "too many live connections for this caller"}
	errTooManySubscriptions = &apperr.Error{Code: "TOO_MANY_SUBSCRIPTIONS", Message: "too many subscriptions on this connection"}
	errNotLive              = &apperr.Error{Code: apperr.BadUserInput,
		Message: "subscriptions are served over WebSocket (graphql-ws) and Server-Sent Events (Accept: text/event-stream)"}
)

// subscriptionsOnly refuses a query or a mutation sent over a live
// transport (WebSocket, Server-Sent Events). The protocols allow them, but
// a live connection is exempt from the per-request bounds (the rate limit,
// requests in flight, the request timeout: a stream lives on) and keeps
// the caller it had at connection_init: a query sent over it ran
// unmetered, and after its caller's role was revoked, its client deleted
// or its token expired. Subscriptions have their own bounds and check
// the caller again before each batch; everything else goes over HTTP,
// as Apollo's, urql's and GraphiQL's clients send it.
type subscriptionsOnly struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = subscriptionsOnly{}

func (subscriptionsOnly) ExtensionName() string                   { return "SubscriptionsOnly" }
func (subscriptionsOnly) Validate(graphql.ExecutableSchema) error { return nil }

func (subscriptionsOnly) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if connOf(ctx) == nil || oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return nil
	}
	return &gqlerror.Error{
		Message: fmt.Sprintf("a %s is not served over a live connection (WebSocket, Server-Sent Events), only subscriptions are: send it as an HTTP request (POST /query)",
			oc.Operation.Operation),
		Extensions: map[string]any{"code": "BAD_REQUEST"},
	}
}

// transports are the subscription transports.
func (l *Live) transports() []graphql.Transport {
	return []graphql.Transport{
		transport.Websocket{
			Upgrader: websocket.Upgrader{
				// Credentials are tokens sent by the client, never cookies:
				// a page of another origin gains nothing by connecting.
				CheckOrigin:     func(*http.Request) bool { return true },
				ReadBufferSize:  1024,
				WriteBufferSize: 1024,
			},
			// graphql-ws gets "ka" messages, graphql-transport-ws pings (a
			// client that does not answer them is not cut off for it).
			KeepAlivePingInterval: l.KeepAlive,
			PingPongInterval:      l.KeepAlive,
			MissingPongOk:         true,
			InitTimeout:           l.InitTimeout,
			InitFunc:              l.init,
		},
		negotiatedSSE{transport.SSE{KeepAlivePingInterval: l.KeepAlive}},
	}
}

// negotiatedSSE is gqlgen's SSE transport for the POSTs that prefer
// text/event-stream (isSSE); gqlgen's takes any Accept that names it.
type negotiatedSSE struct{ transport.SSE }

func (t negotiatedSSE) Supports(r *http.Request) bool { return isSSE(r) && t.SSE.Supports(r) }

// init authenticates a WebSocket connection from its connection_init
// payload, or else the upgrade request's header.
func (l *Live) init(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	c := connOf(ctx)
	if c == nil {
		return ctx, nil, errNotLive
	}
	c.initReached = true
	refuse := func(code uint16, msg string) (context.Context, *transport.InitPayload, error) {
		c.refuse(code, msg)
		return ctx, nil, errors.New(msg)
	}
	if a := strings.TrimSpace(p.Authorization()); a != "" && l.Token != nil {
		// As the Authorization header: "Bearer <token>" or
		// "DirectLogin token=\"<token>\"".
		c.token = l.Token(&http.Request{Header: http.Header{"Authorization": {a}}})
		if c.token == "" {
			return refuse(closeForbidden, `UNAUTHENTICATED: the Authorization of connection_init must be "Bearer <token>"`)
		}
	}
	v := access.FromContext(ctx)
	switch {
	case c.token != "" && l.Verify != nil:
		var err error
		if v, err = l.Verify(ctx, c.token); err != nil {
			return refuse(closeForbidden, "UNAUTHENTICATED: "+err.Error())
		}
	case v == nil:
		return refuse(closeForbidden, `UNAUTHENTICATED: send {"Authorization": "Bearer <token>"} in connection_init`)
	}
	if !l.acquire(v) {
		return refuse(closeTryAgainLater, string(errTooManyConnections.Code)+": "+errTooManyConnections.Message)
	}
	c.viewer = v
	if l.Broker != nil && c.done != nil {
		go c.restartWhenStopped(l.Broker.Stopped())
	}
	return access.NewContext(ctx, v), nil, nil
}

// restartWhenStopped ends the WebSocket connection c with 1012 (restart)
// when the change stream stops, whether or not it holds a subscription: a
// connection holding none (a dashboard between two pages, a client that
// subscribes lazily) was left open until the process ended, and its client
// saw 1006 (abnormal closure) and the server wrote no access-log line for
// it. Those with subscriptions are ended the same way by their own.
func (c *liveConn) restartWhenStopped(stopped <-chan struct{}) {
	select {
	case <-stopped:
		c.restart()
	case <-c.done:
	}
}

// wrap routes WebSocket upgrades (authenticated by init) around guard,
// and counts SSE connections.
func (l *Live) wrap(guarded, raw http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isWebSocket(r):
			c := &liveConn{done: make(chan struct{})}
			defer close(c.done)
			if l.Token != nil {
				c.token = l.Token(r)
			}
			raw.ServeHTTP(limitedUpgrade{w, l.maxMessage, l.WriteTimeout, c}, r.WithContext(context.WithValue(r.Context(), liveConnKey{}, c)))
			if c.viewer != nil {
				l.release(c.viewer)
			}
			if c.ws != nil {
				// The connection is over once gqlgen's transport returns; it
				// returned without closing it when connection_init's payload
				// was not an object (init never reached), leaving the socket
				// open until a collection found it.
				if !c.initReached {
					c.refuse(closeBadRequest, "Bad request: the payload of connection_init must be an object")
				}
				_ = c.ws.Close()
			}
		case isSSE(r):
			v := access.FromContext(r.Context())
			if v == nil {
				guarded.ServeHTTP(w, r) // refused there (or introspection)
				return
			}
			if !l.acquire(v) {
				httpError(w, http.StatusTooManyRequests, string(errTooManyConnections.Code), errTooManyConnections.Message)
				return
			}
			defer l.release(v)
			c := &liveConn{viewer: v}
			if l.Token != nil {
				c.token = l.Token(r)
			}
			// The request's body is read within the connection's read
			// deadline, as an answer's is (408 when it does not arrive);
			// the server's timeouts are for answers, not streams, after.
			if _, err := readAhead(r, l.maxMessage); err != nil {
				if netErr := net.Error(nil); errors.As(err, &netErr) && netErr.Timeout() {
					WriteError(w, r, http.StatusRequestTimeout, "REQUEST_TIMEOUT", "the request body did not arrive in time")
				} else {
					WriteError(w, r, http.StatusBadRequest, "BAD_REQUEST", "the request body could not be read")
				}
				return
			}
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			lw := &lockedWriter{ResponseWriter: w, rc: rc, writeTimeout: l.WriteTimeout}
			c.sse = lw
			guarded.ServeHTTP(lw, r.WithContext(context.WithValue(r.Context(), liveConnKey{}, c)))
			// gqlgen's keep-alive goroutine ends only when the request's
			// context does, after this handler returns, and net/http has
			// then let go of the response: a write of it after that (its
			// tick waited for the lock behind a write stalled on a reader
			// that reads nothing) dereferenced the released buffer and
			// ended the process. From here on, nothing is written.
			aborted := lw.finish()
			if aborted {
				panic(http.ErrAbortHandler) // (net/http closes the connection: no end of the chunked stream)
			}
		default:
			guarded.ServeHTTP(w, r)
		}
	})
}

// lockedWriter serialises the writes of gqlgen's SSE transport, whose
// keep-alive goroutine writes alongside the events, and bounds each: a
// write (and its flush) that the client does not take within writeTimeout
// fails, and the stream ends, as a WebSocket's does.
type lockedWriter struct {
	http.ResponseWriter
	rc           *http.ResponseController
	writeTimeout time.Duration
	mu           sync.Mutex
	aborted      bool // (restart) nothing more is written: the stream is cut, not completed
	done         bool // the handler returned: the response is no longer ours to write
	started      bool // the header is sent
}

// closed reports whether nothing may be written any more (under mu).
func (w *lockedWriter) closed() bool { return w.aborted || w.done }

// deadline bounds the next write (under mu).
func (w *lockedWriter) deadline() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.writeTimeout)) }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed() {
		return 0, http.ErrAbortHandler
	}
	w.start()
	w.deadline()
	return w.ResponseWriter.Write(b)
}

// finish marks the handler returned: nothing is written after it. It
// reports whether the stream was aborted.
func (w *lockedWriter) finish() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	return w.aborted
}

// start puts back, before the header is sent, the Cache-Control every answer
// has (no-store: customer data is never kept by a cache), which gqlgen's
// SSE transport replaces with no-cache.
func (w *lockedWriter) start() {
	if !w.started {
		w.started = true
		w.Header().Set("Cache-Control", "no-store")
	}
}

func (w *lockedWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed() {
		return
	}
	w.start()
	w.ResponseWriter.WriteHeader(code)
}

// abort makes the stream write nothing more.
func (w *lockedWriter) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborted = true
}

// unauthenticated ends c because its token was refused when the stream
// checked it again (expired, its client disabled or deleted), telling the
// client why: a WebSocket is closed with 4403 (graphql-transport-ws's
// Forbidden and the reason; graphql-ws's client retries it, asking its
// connectionParams again each time, until its retries run out), a stream
// of Server-Sent Events is cut off without "complete" (the client connects
// again and is told 401). A "complete" was the end of the
// subscription to the client: a dashboard stopped receiving changes without
// a word.
func (c *liveConn) unauthenticated(msg string) {
	switch {
	case c.ws != nil:
		c.refuse(closeForbidden, "UNAUTHENTICATED: "+msg)
		_ = c.ws.Close()
	case c.sse != nil:
		c.sse.abort()
	}
}

// restart ends c because the server is shutting down (the change stream
// stopped), in a way that clients take as a reason to connect again, not
// as the end of their subscription, which "complete" is (graphql-ws and
// graphql-sse clients then stop): a WebSocket gets the close code 1012
// (RFC 6455's registry: Service Restart), a stream of Server-Sent Events
// is cut off without its "complete" event. Resuming after the last cursor
// received, on another replica, loses nothing.
func (c *liveConn) restart() {
	switch {
	case c.ws != nil:
		c.refuse(closeServiceRestart, "the server is restarting: connect again and resume after your last cursor")
		_ = c.ws.Close()
	case c.sse != nil:
		c.sse.abort()
	}
}

func (w *lockedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *lockedWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed() {
		return
	}
	w.start()
	w.deadline()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// subscribeChanges runs the changes subscription.
func (r *Resolver) subscribeChanges(ctx context.Context, where *ChangeFilter, after *string) (<-chan *changes.Delivery, error) {
	c := connOf(ctx)
	if r.live == nil || r.live.Broker == nil || c == nil || c.viewer == nil {
		return nil, errNotLive
	}
	var f changes.Filter
	if where != nil {
		if where.BankID != nil {
			f.BankIDs = []uuid.UUID{*where.BankID}
		}
		f.EntityTypes = where.EntityTypes
		f.CustomerID = where.CustomerID
		if err := f.Check("entityTypes"); err != nil {
			return nil, err
		}
	}
	var from *changes.Cursor
	if after != nil {
		cur, err := changes.ParseCursor(*after)
		if err != nil {
			return nil, apperr.Invalid("after", "not a cursor of the change stream")
		}
		from = &cur
	}
	c.mu.Lock()
	if c.subs >= r.live.MaxSubscriptionsPerConnection {
		c.mu.Unlock()
		return nil, errTooManySubscriptions
	}
	c.subs++
	c.mu.Unlock()
	done := func() {
		c.mu.Lock()
		c.subs--
		c.mu.Unlock()
	}
	viewer := func(ctx context.Context) (*access.Viewer, error) {
		if r.live.Verify == nil || c.token == "" {
			return c.viewer, nil
		}
		v, err := r.live.Verify(ctx, c.token)
		if _, known := apperr.As(err); err != nil && !known {
			// A refused token (expired, its client disabled or deleted):
			// the caller's, not the server's, failure.
			return nil, &apperr.Error{Code: apperr.Unauthenticated, Message: "the connection's token was refused: " + err.Error()}
		}
		return v, err
	}
	in, end, err := r.live.Broker.Subscribe(ctx, from, f, viewer)
	if err != nil {
		done()
		if errors.Is(err, changes.ErrStopped) {
			// Subscribed as the server ends, after the stream stopped: the
			// client is told to connect again, elsewhere, as a running
			// subscription is (below), and the subscription ends with no
			// event (not an error: nothing failed).
			c.restart()
			ended := make(chan *changes.Delivery)
			close(ended)
			return ended, nil
		}
		return nil, err
	}
	var pace *rate.Limiter
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"Change"}) {
		if f.Name == "node" {
			pace = r.live.nodeReads(c.viewer)
		}
	}
	out := make(chan *changes.Delivery)
	go func() {
		defer close(out)
		defer done()
		// Why the stream ended: the broker's *end once it closed in (and
		// only then: it writes *end before the close), or the check of
		// this side that returned early while the broker may still run.
		var why error
		drained := false
		defer func() {
			if drained {
				why = *end
			}
			if e, ok := apperr.As(why); ok && e.Code == apperr.Unauthenticated {
				c.unauthenticated(e.Message)
			} else if errors.Is(why, changes.ErrStopped) {
				c.restart()
			}
		}()
		for d := range in {
			if pace != nil {
				if pace.Wait(ctx) != nil {
					return
				}
				// The broker checked the batch this change came in with
				// before the wait, which can be seconds: check again, so
				// that a revoked role stops it now, and read its node with
				// the rights of now.
				v, err := viewer(ctx)
				if err != nil {
					why = err
					return
				}
				if !changes.Visible(v, &d.Event) {
					continue
				}
				d.Viewer = v
			}
			select {
			case out <- &d:
			case <-ctx.Done():
				return
			}
		}
		drained = true
	}()
	return out, nil
}

// changeNode reads the changed record as it is now, with the rights the
// change was delivered with: nil once deleted or when it cannot be read.
func (r *Resolver) changeNode(ctx context.Context, d *changes.Delivery) (ent.Noder, error) {
	table, ok := nodeTypes[d.EntityType]
	if !ok || d.Op == "DELETE" || d.Viewer == nil {
		return nil, nil
	}
	n, err := r.client.Noder(access.NewContext(ctx, d.Viewer), d.EntityID, ent.WithFixedNodeType(table))
	if err != nil {
		if _, ok := apperr.As(err); ok || ent.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return n, nil
}
