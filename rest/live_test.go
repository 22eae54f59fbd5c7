package rest_test

// Live changes end to end: GraphQL subscriptions over graphql-ws
// (WebSocket) and Server-Sent Events, fed by changes made through GraphQL
// and every REST family, on one server or on two replicas of one
// PostgreSQL database.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent/apiclient"
	"custgraph/ent/auditevent"
	"custgraph/ent/customer"
	"custgraph/ent/schema"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/changes"
	"custgraph/internal/server"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// startBroker runs a change-stream broker over db for the test's life.
func startBroker(t *testing.T, db *store.DB) *changes.Broker {
	b, _ := startStoppableBroker(t, db)
	return b
}

// startStoppableBroker is startBroker, and a stop that ends its Run (as a
// server's drain does).
func startStoppableBroker(t *testing.T, db *store.DB) (*changes.Broker, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	b := changes.NewBroker(db.Client, db.Hub, changes.BrokerOptions{Logger: slog.New(slog.DiscardHandler)})
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return b, stop
}

// replica serves e's database through another process's view of it: its
// own pool, listener, caller cache and broker (PostgreSQL only: SQLite is
// one process's).
func (e *env) replica(t *testing.T) (*httptest.Server, context.CancelFunc) {
	t.Helper()
	db, statements := testdb.Reopen(t, e.dsn)
	auth, err := authn.New(e.sys, db.Client, authn.Config{Hub: db.Hub})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	b := changes.NewBroker(db.Client, db.Hub, changes.BrokerOptions{Logger: slog.New(slog.DiscardHandler)})
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	srv := httptest.NewServer(server.New(db, statements, server.Config{Auth: auth, Logger: slog.New(slog.DiscardHandler), Changes: b}))
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
		srv.CloseClientConnections()
		srv.Close()
	})
	t.Cleanup(stop)
	return srv, stop
}

// head is the change stream's current position: subscribing after it
// (rather than "from now on", which starts when the server gets to the
// subscription) makes the tests independent of that moment.
// On PostgreSQL the head waits for the transactions running anywhere on
// the server (other tests') to end: it is the last event written so far.
func (e *env) head(t *testing.T) string {
	t.Helper()
	last, err := e.db.Client.AuditEvent.Query().Order(auditevent.ByTxid(sql.OrderDesc()), auditevent.ByID(sql.OrderDesc())).First(e.sys)
	require.NoError(t, err)
	for {
		h, err := changes.Head(e.sys, e.db.Client)
		require.NoError(t, err)
		if h.ID == last.ID {
			return h.String()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lastClient is the API client created last.
func (e *env) lastClient(t *testing.T) uuid.UUID {
	t.Helper()
	cl, err := e.db.Client.APIClient.Query().Order(apiclient.ByID(sql.OrderDesc())).First(e.sys)
	require.NoError(t, err)
	return cl.ID
}

// change is a delivered change as a subscriber reads it.
type change struct {
	Cursor     string
	Op         string
	EntityType string
	EntityID   string
	BankID     *string
	CustomerID *string
	Fields     []string
	ActorKind  string
	At         string
	Node       *struct {
		ID        string
		LegalName string
	}
}

const changesSub = `subscription($where: ChangeFilter, $after: String) {
  changes(where: $where, after: $after) {
    cursor op entityType entityID bankID customerID fields actorKind at
    node { ... on Customer { id legalName } }
  }
}`

// subscriber is one subscription, over either transport.
type subscriber interface {
	// next returns the next change; ok is false when the subscription
	// ended (err says how, if it was refused or failed).
	next(t *testing.T) (c change, ok bool, err string)
	close()
}

// wsSub is a subscription over graphql-transport-ws.
type wsSub struct {
	conn   *websocket.Conn
	msgs   chan map[string]json.RawMessage
	closed string // the close frame's code and reason, once closed
}

// subscribeWS connects to srv over WebSocket, authenticates in
// connection_init with authorization (unless "") and subscribes.
func subscribeWS(t *testing.T, srvURL, authorization string, vars map[string]any) (*wsSub, string) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(srvURL, "http")+"/query", nil)
	require.NoError(t, err)
	res.Body.Close()
	s := &wsSub{conn: conn, msgs: make(chan map[string]json.RawMessage, 1024)}
	go func() {
		defer close(s.msgs)
		for {
			var m map[string]json.RawMessage
			if err := conn.ReadJSON(&m); err != nil {
				if ce, ok := err.(*websocket.CloseError); ok {
					s.closed = ce.Error()
				}
				return
			}
			if string(m["type"]) == `"ping"` {
				_ = conn.WriteJSON(map[string]any{"type": "pong"})
				continue
			}
			s.msgs <- m
		}
	}()
	init := map[string]any{"type": "connection_init"}
	if authorization != "" {
		init["payload"] = map[string]any{"Authorization": authorization}
	}
	require.NoError(t, conn.WriteJSON(init))
	m, ok := s.read(t)
	if !ok || string(m["type"]) != `"connection_ack"` {
		conn.Close()
		return nil, string(m["payload"]) + s.closed
	}
	err = conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": changesSub, "variables": vars}})
	if !errors.Is(err, websocket.ErrCloseSent) { // (closed since the ack: the reads tell how)
		require.NoError(t, err)
	}
	return s, ""
}

func (s *wsSub) read(t *testing.T) (map[string]json.RawMessage, bool) {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		return m, ok
	case <-time.After(30 * time.Second): // a guard against hanging, not a measure
		t.Fatal("no message from the server")
		return nil, false
	}
}

func (s *wsSub) next(t *testing.T) (change, bool, string) {
	t.Helper()
	for {
		m, ok := s.read(t)
		if !ok {
			return change{}, false, "connection closed"
		}
		switch string(m["type"]) {
		case `"next"`:
			return decodeNext(t, m["payload"])
		case `"complete"`:
			return change{}, false, ""
		case `"error"`:
			return change{}, false, string(m["payload"])
		}
	}
}

func (s *wsSub) close() { s.conn.Close() }

func decodeNext(t *testing.T, payload []byte) (change, bool, string) {
	t.Helper()
	var p struct {
		Data   struct{ Changes *change }
		Errors []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(payload, &p), "%s", payload)
	if len(p.Errors) > 0 || p.Data.Changes == nil {
		return change{}, false, string(payload)
	}
	return *p.Data.Changes, true, ""
}

// postSSE sends a GraphQL request to srvURL asking for Server-Sent Events
// only, and returns the answer, whose body is closed at the end of the test
// (a failed check must not leave a stream open: the server's Close waits
// for it).
func postSSE(t *testing.T, srvURL, authorization, query string, vars map[string]any) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, srvURL+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", authorization)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// sseSub is a subscription over Server-Sent Events.
type sseSub struct {
	res    *http.Response
	events chan []byte
}

func subscribeSSE(t *testing.T, srvURL, authorization string, vars map[string]any) *sseSub {
	t.Helper()
	return subscribeSSEQuery(t, srvURL, authorization, changesSub, vars)
}

// subscribeSSEQuery is subscribeSSE with another subscription than changesSub.
func subscribeSSEQuery(t *testing.T, srvURL, authorization, query string, vars map[string]any) *sseSub {
	t.Helper()
	res := postSSE(t, srvURL, authorization, query, vars)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"), "as every answer (gqlgen's transport says no-cache)")
	s := &sseSub{res: res, events: make(chan []byte, 1024)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
				if event == "complete" {
					return
				}
			case strings.HasPrefix(line, "data: ") && event == "next":
				s.events <- []byte(strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return s
}

func (s *sseSub) next(t *testing.T) (change, bool, string) {
	t.Helper()
	select {
	case b, ok := <-s.events:
		if !ok {
			return change{}, false, ""
		}
		return decodeNext(t, b)
	case <-time.After(30 * time.Second): // a guard against hanging, not a measure
		t.Fatal("no event from the server")
		return change{}, false, ""
	}
}

func (s *sseSub) close() { s.res.Body.Close() }

// expect reads n changes and returns them.
func expect(t *testing.T, s subscriber, n int) []change {
	t.Helper()
	out := make([]change, 0, n)
	for range n {
		c, ok, err := s.next(t)
		require.True(t, ok, "subscription ended: %s", err)
		out = append(out, c)
	}
	return out
}

func ids(cs []change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.EntityID
	}
	return out
}

// createThroughEveryDoor creates a customer at bank A through GraphQL and
// each REST family, and returns their ids in order.
func (e *env) createThroughEveryDoor(t *testing.T, tok string) []string {
	t.Helper()
	data := e.gql(t, tok, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Grace Hopper"}) { id } }`,
		map[string]any{"b": e.A.ID})
	var g struct{ ID string }
	require.NoError(t, json.Unmarshal(data["createCustomer"], &g))

	res := e.call(t, http.MethodPost, "/v1/profiles/"+bankA+"/customers", tok, map[string]any{
		"first_name": "John", "last_name": "Doe", "email": "john@example.com"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	bs := res.object(t)["id"].(string)

	res = e.call(t, http.MethodPost, "/roles/customers", tok, map[string]any{
		"entityId": uuid.NewString(), "entityType": "NATURAL_PERSON", "labels": []string{"vip"}}, "Requestor-ID", uuid.NewString())
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	tv := res.object(t)["customerId"].(string)

	res = e.call(t, http.MethodPost, "/obp/v5.1.0/banks/"+bankA+"/customers", tok, map[string]any{
		"legal_name": "Eveline Tripman", "mobile_phone_number": "+44 07972 444 876", "email": "eveline@example.com"})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	obp := res.object(t)["customer_id"].(string)
	return []string{g.ID, bs, tv, obp}
}

// TestLiveChangesThroughEveryDoor: a dashboard subscribed over WebSocket
// and over SSE sees the customers created through GraphQL and each REST
// family, in order, with their current state, and never another bank's.
func TestLiveChangesThroughEveryDoor(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	writerB := e.client(t, e.B, allBankRoles(e.B)...)
	dash := e.client(t, nil, at(e.A, access.CanGetCustomer)...)

	head := e.head(t)
	where := map[string]any{"where": map[string]any{"entityTypes": []string{"Customer"}}, "after": head}
	ws, refusal := subscribeWS(t, e.srv.URL, dash, where)
	require.Empty(t, refusal)
	defer ws.close()
	sse := subscribeSSE(t, e.srv.URL, dash, map[string]any{"after": head}) // no filter: the roles decide
	defer sse.close()
	first := e.createThroughEveryDoor(t, writer)
	// Bank B's change, then a sentinel at A: the next change after the
	// four is the sentinel, so B's was never delivered.
	e.gql(t, writerB, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Other Bank"}) { id } }`,
		map[string]any{"b": e.B.ID})
	data := e.gql(t, writer, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Sentinel"}) { id } }`,
		map[string]any{"b": e.A.ID})
	var sentinel struct{ ID string }
	require.NoError(t, json.Unmarshal(data["createCustomer"], &sentinel))
	want := append(first, sentinel.ID)

	for name, s := range map[string]subscriber{"graphql-ws": ws, "SSE": sse} {
		t.Run(name, func(t *testing.T) {
			got := expect(t, s, len(want))
			assert.Equal(t, want, ids(got), "every door's change, in order, none of bank B")
			for i, c := range got {
				assert.Equal(t, "CREATE", c.Op)
				assert.Equal(t, "Customer", c.EntityType)
				assert.Equal(t, e.A.ID.String(), *c.BankID)
				assert.Equal(t, c.EntityID, *c.CustomerID)
				assert.Equal(t, "client", c.ActorKind)
				assert.NotEmpty(t, c.Cursor)
				require.NotNil(t, c.Node, "the record as it is now")
				assert.Equal(t, c.EntityID, c.Node.ID)
				if i > 0 {
					assert.NotEqual(t, got[i-1].Cursor, c.Cursor)
				}
			}
			assert.Equal(t, "Grace Hopper", got[0].Node.LegalName)
			assert.Equal(t, "John Doe", got[1].Node.LegalName, "bankingservice.ai's names make the legal name")
		})
	}

	// /metrics counts the two open subscriptions and what they received.
	res, err := http.Get(e.srv.URL + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	metric := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
		require.NotNil(t, m, "%s in /metrics", name)
		v, err := strconv.ParseFloat(string(m[1]), 64)
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, 2.0, metric("custgraph_subscriptions"))
	assert.GreaterOrEqual(t, metric("custgraph_subscription_events_total"), float64(2*len(want)))
}

// TestLiveResumeWithCursor: a subscriber that reconnects with the cursor
// of the last change it received gets every change since, in order, once.
func TestLiveResumeWithCursor(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	dash := e.client(t, nil, at(e.A, access.CanGetCustomer, access.CanGetCustomerProduct)...)
	ws, _ := subscribeWS(t, e.srv.URL, dash, map[string]any{"after": e.head(t)})
	created := e.createThroughEveryDoor(t, writer)
	got := expect(t, ws, 2)
	ws.close() // gone after the second change, the others unread
	more := e.createThroughEveryDoor(t, writer)

	sse := subscribeSSE(t, e.srv.URL, dash, map[string]any{"after": got[1].Cursor})
	defer sse.close()
	rest := expect(t, sse, 6)
	assert.Equal(t, append(created[2:], more...), ids(rest), "no gap, no repeat")

	// A cursor from the beginning of the test's history replays it all.
	ws2, _ := subscribeWS(t, e.srv.URL, dash, map[string]any{"after": got[0].Cursor,
		"where": map[string]any{"customerID": created[3]}})
	defer ws2.close()
	e.gql(t, writer, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "eve@example.org"}) { id } }`,
		map[string]any{"id": created[3]})
	c := expect(t, ws2, 2)
	assert.Equal(t, []string{created[3], created[3]}, ids(c))
	assert.Equal(t, "CREATE", c[0].Op)
	assert.Equal(t, "UPDATE", c[1].Op)
	assert.Equal(t, []string{"email"}, c[1].Fields)
}

// TestLiveNodeReadsArePaced: the changes a caller's subscriptions deliver
// with their node selected each read a record, so they are paced (here one
// at once, the next in 100 s): a replay from an old cursor ran every
// change's read at once, thousands of statements from one request. Without
// node the same replay comes at once.
func TestLiveNodeReadsArePaced(t *testing.T) {
	e := newEnv(t, envOptions{live: true, liveReads: 0.01})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	dash := e.client(t, nil, at(e.A, access.CanGetCustomer)...)
	from := e.head(t)
	created := e.createThroughEveryDoor(t, writer)

	plain := subscribeSSEQuery(t, e.srv.URL, dash,
		`subscription($after: String) { changes(after: $after) { cursor op entityType entityID } }`, map[string]any{"after": from})
	assert.Equal(t, created, ids(expect(t, plain, len(created))), "without node: the whole replay")
	plain.close()

	paced := subscribeSSE(t, e.srv.URL, dash, map[string]any{"after": from})
	defer paced.close()
	assert.Equal(t, created[:1], ids(expect(t, paced, 1)), "with node: the burst")
	select {
	case b := <-paced.events:
		t.Fatalf("a second change with its node came before its turn: %s", b)
	case <-time.After(500 * time.Millisecond): // unpaced, it comes at once
	}
	// Reconnecting from the cursor does not reset the pace: the caller's
	// bucket outlives its connections until it is full again.
	paced.close()
	again := subscribeSSE(t, e.srv.URL, dash, map[string]any{"after": from})
	defer again.close()
	select {
	case b := <-again.events:
		t.Fatalf("a reconnection got a change with its node before its turn: %s", b)
	case <-time.After(500 * time.Millisecond):
	}
}

// TestLiveRevokedWhilePaced: a change waiting its turn is checked again
// when its turn comes. The broker checks a batch when it reads it, so a
// paced change could be delivered (and its node read) seconds after the
// role was revoked.
func TestLiveRevokedWhilePaced(t *testing.T) {
	e := newEnv(t, envOptions{live: true, liveReads: 2}) // bursts of 4, then one every 0.5 s
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	dash := e.client(t, nil, at(e.A, access.CanGetCustomer, access.CanGetCustomerProduct)...)
	dashClient := e.lastClient(t)
	from := e.head(t)
	created := append(e.createThroughEveryDoor(t, writer), e.createThroughEveryDoor(t, writer)...)
	sub := subscribeSSE(t, e.srv.URL, dash, map[string]any{"after": from})
	defer sub.close()
	assert.Equal(t, created[:4], ids(expect(t, sub, 4)), "the burst")

	_, err := admin.Revoke(e.sys, e.db.Client, &dashClient, nil, access.CanGetCustomer, &e.A.ID)
	require.NoError(t, err)
	p := e.gql(t, writer, `mutation($c: ID!) { createProduct(input: {customerID: $c, productCode: WALLET}) { id } }`,
		map[string]any{"c": created[0]})
	var prod struct{ ID string }
	require.NoError(t, json.Unmarshal(p["createProduct"], &prod))
	got := expect(t, sub, 1)
	assert.Equal(t, []string{prod.ID}, ids(got), "the customers read before the revocation are not delivered after it")
}

// TestLiveStalledBodyIsRequestTimeout: the body of a subscription sent as
// Server-Sent Events is read within the server's read deadline, as an
// answer's is: a body that does not arrive is 408. The stream cleared the
// deadline before the body was read, and such a request was held for as
// long as the client liked (20 of them per caller).
func TestLiveStalledBodyIsRequestTimeout(t *testing.T) {
	e := newEnv(t, envOptions{live: true, readTimeout: 500 * time.Millisecond})
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	for _, accept := range []string{"text/event-stream", urqlAccept} {
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second))) // a guard against hanging, not a measure
		_, err = fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\n"+
			"Accept: %s\r\nContent-Length: 100\r\n\r\n{\"query\"", tok, accept)
		require.NoError(t, err)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "Accept: %s", accept)
		body, _ := io.ReadAll(res.Body)
		require.Equal(t, http.StatusRequestTimeout, res.StatusCode, "Accept: %s: %s", accept, body)
		require.Contains(t, string(body), `"code":"REQUEST_TIMEOUT"`)
	}
}

// TestLiveShutdownTellsSubscribersToReconnect: when the change stream
// stops (a server's drain is over), a WebSocket subscriber gets the close
// code 1012 (Service Restart) and a stream of Server-Sent Events is cut
// off, neither with "complete": graphql-ws and graphql-sse clients take
// "complete" as the end of the subscription and did not come back, so a
// rolling restart ended every dashboard's feed.
func TestLiveShutdownTellsSubscribersToReconnect(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	from := e.head(t)
	ws, refused := subscribeWS(t, e.srv.URL, tok, map[string]any{"after": from})
	require.Empty(t, refused)
	defer ws.close()
	lines := bufio.NewReader(postSSE(t, e.srv.URL, tok, changesSub, map[string]any{"after": from}).Body)
	e.gql(t, tok, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Before the restart"}) { id } }`, map[string]any{"b": e.A.ID})
	expect(t, ws, 1)
	var stream []string
	for !slices.Contains(stream, "event: next") {
		l, err := lines.ReadString('\n')
		require.NoError(t, err, "the stream before the restart: %q", stream)
		stream = append(stream, strings.TrimSpace(l))
	}

	e.stopLive()
	for {
		m, ok := ws.read(t)
		if !ok {
			break
		}
		require.NotEqual(t, `"complete"`, string(m["type"]), "a restart is not the end of the subscription")
	}
	require.Contains(t, ws.closed, "1012", "the WebSocket's close")
	for {
		l, err := lines.ReadString('\n')
		if err != nil {
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the stream is cut, not ended: %q", stream)
			break
		}
		stream = append(stream, strings.TrimSpace(l))
	}
	require.NotContains(t, stream, "event: complete")
}

// TestLiveSubscribingAfterTheStreamStopped: a subscription that arrives
// after the change stream stopped (between the end of a server's drain and
// its exit) is told to connect again, as a running one is: a WebSocket is
// closed with 1012, a stream of Server-Sent Events is cut off. It was an
// INTERNAL error, which graphql-ws and graphql-sse clients take as the
// subscription's end, and an error line in the log.
func TestLiveSubscribingAfterTheStreamStopped(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	e.stopLive()

	// The close may come before connection_ack (the connection is closed
	// as soon as it is authenticated) or after it.
	ws, refused := subscribeWS(t, e.srv.URL, tok, nil)
	if refused == "" {
		defer ws.close()
		for {
			m, ok := ws.read(t)
			if !ok {
				break
			}
			require.NotContains(t, []string{`"error"`, `"next"`, `"complete"`}, string(m["type"]), "%s", m["payload"])
		}
		refused = ws.closed
	}
	require.Contains(t, refused, "1012", "the WebSocket's close")

	body, err := io.ReadAll(postSSE(t, e.srv.URL, tok, changesSub, nil).Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the stream is cut, not ended: %s", body)
	require.NotContains(t, string(body), "event: next")
	require.NotContains(t, string(body), "event: complete")
}

// TestLiveEntitlementsAtDelivery: each change is checked against the
// subscriber's entitlements when it is delivered: a revoked role stops
// its changes at once, a deleted client's subscription ends.
func TestLiveEntitlementsAtDelivery(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	dash := e.client(t, nil, at(e.A, access.CanGetCustomer, access.CanGetCustomerProduct)...)
	dashClient := e.lastClient(t)
	ws, _ := subscribeWS(t, e.srv.URL, dash, map[string]any{"after": e.head(t)})
	defer ws.close()
	cust := e.gql(t, writer, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Before"}) { id } }`,
		map[string]any{"b": e.A.ID})
	var c struct{ ID string }
	require.NoError(t, json.Unmarshal(cust["createCustomer"], &c))
	assert.Equal(t, []string{c.ID}, ids(expect(t, ws, 1)))

	_, err := admin.Revoke(e.sys, e.db.Client, &dashClient, nil, access.CanGetCustomer, &e.A.ID)
	require.NoError(t, err)
	e.gql(t, writer, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "After"}) { id } }`,
		map[string]any{"b": e.A.ID})
	p := e.gql(t, writer, `mutation($c: ID!) { createProduct(input: {customerID: $c, productCode: WALLET}) { id } }`,
		map[string]any{"c": c.ID})
	var prod struct{ ID string }
	require.NoError(t, json.Unmarshal(p["createProduct"], &prod))
	got := expect(t, ws, 1)
	assert.Equal(t, []string{prod.ID}, ids(got), "the customer created after the revocation is not told")
	assert.Equal(t, "Product", got[0].EntityType)

	// Deleting the client ends its subscription, and says why: the
	// connection is closed with 4403 (it was a bare "complete", which
	// clients take for the subscription's end).
	idle := dialAcked(t, e.srv.URL, dash) // (a connection with no subscription yet)
	defer idle.Close()
	require.NoError(t, e.db.Client.APIClient.DeleteOneID(dashClient).Exec(e.sys))
	e.gql(t, writer, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Gone"}) { id } }`,
		map[string]any{"b": e.A.ID})
	_, ok, msg := ws.next(t)
	assert.False(t, ok, "the subscription ended")
	assert.Equal(t, "connection closed", msg, "no complete")
	assert.Contains(t, ws.closed, "4403")
	assert.Contains(t, ws.closed, "UNAUTHENTICATED")
	// A new subscription on a connection is refused as unauthenticated
	// (it was INTERNAL, with an error logged for each).
	require.NoError(t, idle.WriteJSON(map[string]any{"id": "2", "type": "subscribe",
		"payload": map[string]any{"query": changesSub}}))
	var m map[string]json.RawMessage
	for m == nil || string(m["type"]) == `"ping"` {
		require.NoError(t, idle.ReadJSON(&m))
	}
	require.Equal(t, `"next"`, string(m["type"]), "%s", m["payload"]) // (gqlgen: a resolver's error is a result)
	var res struct {
		Errors []struct{ Extensions map[string]any }
	}
	require.NoError(t, json.Unmarshal(m["payload"], &res))
	require.Len(t, res.Errors, 1)
	require.Equal(t, "UNAUTHENTICATED", res.Errors[0].Extensions["code"], "%s", m["payload"])
}

// TestLiveLimitsAndAuthentication: a connection needs a token; limits per
// connection and per caller apply.
func TestLiveLimitsAndAuthentication(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	// A refused connection_init closes the connection unacknowledged, with
	// graphql-transport-ws's 4403 Forbidden and the reason (graph/wsrefuse.go;
	// the older graphql-ws subprotocol gets connection_error with it).
	_, refusal := subscribeWS(t, e.srv.URL, "", nil)
	assert.Contains(t, refusal, "close 4403", "no token")
	assert.Contains(t, refusal, "UNAUTHENTICATED", "no token")
	_, refusal = subscribeWS(t, e.srv.URL, "Bearer not-a-token", nil)
	assert.Contains(t, refusal, "close 4403", "a bad token")

	dash := e.client(t, nil, at(e.A, access.CanGetCustomer)...)
	ws, refusal := subscribeWS(t, e.srv.URL, dash, nil)
	require.Empty(t, refusal)
	defer ws.close()
	// A misspelt entity type is refused, not silently matched by nothing;
	// the refused subscription does not count against the ten.
	require.NoError(t, ws.conn.WriteJSON(map[string]any{"id": "typo", "type": "subscribe",
		"payload": map[string]any{"query": changesSub, "variables": map[string]any{"where": map[string]any{"entityTypes": []string{"Customers"}}}}}))
	for {
		m, ok := ws.read(t)
		require.True(t, ok)
		if string(m["id"]) == `"typo"` {
			assert.Contains(t, string(m["payload"]), "BAD_USER_INPUT", "%s", m["payload"])
			assert.Contains(t, string(m["payload"]), "not an entity type", "%s", m["payload"])
			break
		}
	}
	for i := 2; i <= 11; i++ { // ten subscriptions per connection
		require.NoError(t, ws.conn.WriteJSON(map[string]any{"id": uuid.NewString(), "type": "subscribe",
			"payload": map[string]any{"query": changesSub}}))
	}
	for { // the eleventh is refused
		m, ok := ws.read(t)
		require.True(t, ok)
		if strings.Contains(string(m["payload"]), "TOO_MANY_SUBSCRIPTIONS") {
			break
		}
	}

	var conns []*wsSub
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	for range 19 { // twenty connections per caller
		c, refusal := subscribeWS(t, e.srv.URL, dash, nil)
		require.Empty(t, refusal)
		conns = append(conns, c)
	}
	_, refusal = subscribeWS(t, e.srv.URL, dash, nil)
	assert.Contains(t, refusal, "close 1013", "the 21st connection: try again later")
	assert.Contains(t, refusal, "TOO_MANY_CONNECTIONS")
	// Over SSE the refusal is an HTTP answer.
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", strings.NewReader(`{"query":"subscription { changes { cursor } }"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", dash)
	res := e.send(t, req)
	assert.Equal(t, http.StatusTooManyRequests, res.status)
	assert.Contains(t, string(res.body), "TOO_MANY_CONNECTIONS")
	conns[0].close()
	for { // once one is closed, a new one is accepted
		c, refusal := subscribeWS(t, e.srv.URL, dash, nil)
		if refusal == "" {
			c.close()
			break
		}
	}
}

// TestLiveAcrossReplicas (PostgreSQL): a change committed through replica
// A reaches a subscriber on replica B; when B dies mid-stream the
// subscriber reconnects to A with its cursor and loses nothing.
func TestLiveAcrossReplicas(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("replicas share a PostgreSQL database")
	}
	e := newEnv(t, envOptions{live: true})
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	dash := e.client(t, nil, at(e.A, access.CanGetCustomer)...)
	b, killB := e.replica(t)

	ws, refusal := subscribeWS(t, b.URL, dash, map[string]any{"after": e.head(t)})
	require.Empty(t, refusal)
	first := e.createThroughEveryDoor(t, writer) // through replica A
	got := expect(t, ws, 2)
	assert.Equal(t, first[:2], ids(got), "A's changes reach B's subscriber")

	killB()
	ws.close()
	more := e.createThroughEveryDoor(t, writer) // while the subscriber is away
	ws2, refusal := subscribeWS(t, e.srv.URL, dash, map[string]any{"after": got[1].Cursor})
	require.Empty(t, refusal)
	defer ws2.close()
	rest := expect(t, ws2, 6)
	assert.Equal(t, append(first[2:], more...), ids(rest), "nothing lost, nothing repeated")
}

// feedEntry is one entry of GET /entities-changelog.
type feedEntry struct {
	Cursor, Operation, EntityType, EntityID, ActorKind, ChangedOn string
	BankID, CustomerID                                            *string
	ChangedFields                                                 []string
}

// feed reads the change feed from cursor until it has n entries (asking
// again while the stream has not reached them: on PostgreSQL other
// transactions on the server hold it back), and returns them and the
// cursor to go on from.
func (e *env) feed(t *testing.T, tok, cursor string, limit, n int) ([]feedEntry, string) {
	t.Helper()
	var out []feedEntry
	for len(out) < n {
		path := "/entities-changelog?limit=" + strconv.Itoa(limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := e.call(t, http.MethodGet, path, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var page struct {
			Data       []feedEntry
			Pagination struct {
				Cursor string
				Limit  int
			}
		}
		res.decode(t, &page)
		require.LessOrEqual(t, len(page.Data), limit)
		require.Equal(t, limit, page.Pagination.Limit)
		require.NotEmpty(t, page.Pagination.Cursor)
		out = append(out, page.Data...)
		cursor = page.Pagination.Cursor
		if len(page.Data) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return out, cursor
}

func entryIDs(es []feedEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EntityID
	}
	return out
}

// TestChangelogFeed: a partner reads the change feed a page at a time and
// later on from its cursor: every change of its bank made through any
// door, in order, once; never another bank's.
func TestChangelogFeed(t *testing.T) {
	e := newEnv(t)
	writer := e.client(t, e.A, allBankRoles(e.A)...)
	writerB := e.client(t, e.B, allBankRoles(e.B)...)
	partner := e.client(t, e.A, at(e.A, access.CanGetCustomer)...) // bound to bank A

	res := e.call(t, http.MethodGet, "/entities-changelog", "", nil)
	assert.Equal(t, http.StatusUnauthorized, res.status)
	res = e.call(t, http.MethodGet, "/entities-changelog?cursor=nonsense", partner, nil)
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, "cursor", res.object(t)["errorDetails"].([]any)[0].(map[string]any)["field"])
	res = e.call(t, http.MethodGet, "/entities-changelog?limit=101", partner, nil)
	assert.Equal(t, http.StatusBadRequest, res.status)
	// A misspelt type is refused, not silently matched by nothing.
	res = e.call(t, http.MethodGet, "/entities-changelog?entityType=Customers", partner, nil)
	assert.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
	assert.Equal(t, "entityType", res.object(t)["errorDetails"].([]any)[0].(map[string]any)["field"])
	assert.Contains(t, string(res.body), "Customer, CustomerAttribute")
	// The OpenAPI document lists the same types.
	doc, err := os.ReadFile("openapi/changes.json")
	require.NoError(t, err)
	var spec struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string
				Schema struct{ Enum []string }
			}
		}
	}
	require.NoError(t, json.Unmarshal(doc, &spec))
	for _, prm := range spec.Paths["/entities-changelog"]["get"].Parameters {
		if prm.Name == "entityType" {
			assert.Equal(t, schema.ChangeTypes(), prm.Schema.Enum, "rest/openapi/changes.json's entityType enum")
		}
	}

	// From the beginning: bank A's creation, then the customers.
	first := e.createThroughEveryDoor(t, writer)
	got, cursor := e.feed(t, partner, "", 2, 5)
	assert.Equal(t, append([]string{e.A.ID.String()}, first...), entryIDs(got))
	assert.Equal(t, "Bank", got[0].EntityType)
	for _, c := range got[1:] {
		assert.Equal(t, "CREATE", c.Operation)
		assert.Equal(t, "Customer", c.EntityType)
		assert.Equal(t, e.A.ID.String(), *c.BankID)
		assert.Equal(t, c.EntityID, *c.CustomerID)
		assert.Equal(t, "client", c.ActorKind)
		assert.NotEmpty(t, c.ChangedFields)
	}

	// Later: another bank's change, an update through OBP and a sentinel.
	e.gql(t, writerB, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Other Bank"}) { id } }`,
		map[string]any{"b": e.B.ID})
	res = e.call(t, http.MethodPut, "/obp/v3.1.0/banks/"+bankA+"/customers/"+first[3]+"/email", writer,
		map[string]any{"email": "eveline.t@example.com"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	data := e.gql(t, writer, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Sentinel"}) { id } }`,
		map[string]any{"b": e.A.ID})
	var sentinel struct{ ID string }
	require.NoError(t, json.Unmarshal(data["createCustomer"], &sentinel))
	more, _ := e.feed(t, partner, cursor, 20, 2)
	assert.Equal(t, []string{first[3], sentinel.ID}, entryIDs(more), "from the cursor on, none of bank B")
	assert.Equal(t, "UPDATE", more[0].Operation)
	assert.Equal(t, []string{"email"}, more[0].ChangedFields)

	// entityType narrows.
	banks, _ := e.feed(t, partner, "", 20, 1)
	assert.Equal(t, "Bank", banks[0].EntityType)
	res = e.call(t, http.MethodGet, "/entities-changelog?entityType=Product", partner, nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Empty(t, res.object(t)["data"])
}

// TestLiveServesSubscriptionsOnly: a query or a mutation sent over a live
// connection is refused; it goes over HTTP. A live connection is exempt
// from the per-request bounds and keeps the caller of its connection_init:
// queries sent over it ran past the rate limit and the bound on requests
// in flight, and after the caller's role was revoked or its token expired.
func TestLiveServesSubscriptionsOnly(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	dash := e.client(t, nil, at(e.A, access.CanGetCustomer, access.CanCreateCustomer)...)
	const only = "only subscriptions are"
	ws, refusal := subscribeWS(t, e.srv.URL, dash, nil)
	require.Empty(t, refusal)
	defer ws.close()
	for id, query := range map[string]string{
		"query":    `{ customers(first: 1) { totalCount } }`,
		"mutation": `mutation($b: ID!) { createCustomer(input: {bankID: $b, lastName: "WS"}) { id } }`,
	} {
		require.NoError(t, ws.conn.WriteJSON(map[string]any{"id": id, "type": "subscribe",
			"payload": map[string]any{"query": query, "variables": map[string]any{"b": e.A.ID}}}))
		for {
			m, ok := ws.read(t)
			require.True(t, ok)
			if string(m["id"]) == `"`+id+`"` {
				require.Contains(t, string(m["payload"]), only, "%s", m["payload"])
				require.NotContains(t, string(m["payload"]), "totalCount", "%s", m["payload"])
				break
			}
		}
	}
	sse := subscribeSSEQuery(t, e.srv.URL, dash, `mutation($b: ID!) { createCustomer(input: {bankID: $b, lastName: "SSE"}) { id } }`,
		map[string]any{"b": e.A.ID})
	defer sse.close()
	_, ok, msg := sse.next(t)
	require.False(t, ok)
	require.Contains(t, msg, only)
	require.Zero(t, e.db.Client.Customer.Query().Where(customer.LastNameIn("WS", "SSE")).CountX(e.sys), "nothing written")
}

// TestLiveInitPayloadNotAnObject: a connection_init whose payload is not an
// object closes the connection with graphql-transport-ws's 4400. gqlgen's
// transport returned without closing it: the socket stayed open (300 of
// them, from a client without credentials, held 300 descriptors) until a
// collection happened to find it.
func TestLiveInitPayloadNotAnObject(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	for _, payload := range []any{5, "x", []any{1}} {
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
		conn, res, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/query", nil)
		require.NoError(t, err)
		res.Body.Close()
		require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init", "payload": payload}))
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second))) // a guard against hanging, not a measure
		_, _, err = conn.ReadMessage()
		var ce *websocket.CloseError
		require.ErrorAs(t, err, &ce, "payload %v", payload)
		require.Equal(t, 4400, ce.Code, "payload %v", payload)
		conn.Close()
	}
}
