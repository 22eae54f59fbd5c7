package bench

// The live-changes benchmark (README, "Live changes"): subscribers spread
// over two replicas of one PostgreSQL database, changes made through
// replica A's GraphQL endpoint. Run it with
//
//	LIVE_BENCH=1 TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	    go test ./bench/ -run TestLiveFanout -v -timeout 20m
//
// (LIVE_SUBSCRIBERS, default 1000, sets the number of subscribers). It
// reports, measured in the same run:
//   - the round trip of a plain query (POST /query { viewer { name } }) to
//     replica A: the baseline;
//   - change-to-delivery latency, p50 and p99 over every (change,
//     subscriber) pair: from the moment the writer sends the mutation to the
//     moment a subscriber has read the change, as a ratio to the baseline
//     (the mutation's own round trip is part of it: an upper bound of
//     commit-to-delivery); and the mutation's round trip for comparison;
//   - memory per idle subscriber: the Go heap and goroutines the process
//     holds per subscriber once all are connected (server and test client
//     both live in this process, so it is an upper bound for the server);
//   - events delivered per second while writers change as fast as they can.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/gorilla/websocket"

	"custgraph/ent/auditevent"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/changes"
	"custgraph/internal/server"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

type liveReplica struct {
	srv  *httptest.Server
	auth *authn.Service
}

func startLiveReplica(t *testing.T, db *store.DB, statements *atomic.Int64) liveReplica {
	auth, err := authn.New(access.System(context.Background()), db.Client, authn.Config{Hub: db.Hub})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := changes.NewBroker(db.Client, db.Hub, changes.BrokerOptions{Logger: slog.New(slog.DiscardHandler)})
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	srv := httptest.NewServer(server.New(db, statements, server.Config{Auth: auth, Logger: slog.New(slog.DiscardHandler), Changes: b}))
	t.Cleanup(func() { cancel(); <-done; srv.CloseClientConnections(); srv.Close() })
	return liveReplica{srv: srv, auth: auth}
}

func post(url, token, body string) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && (res.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`))) {
		err = fmt.Errorf("HTTP %d: %.300s", res.StatusCode, b)
	}
	return b, err
}

func TestLiveFanout(t *testing.T) {
	if os.Getenv("LIVE_BENCH") == "" || testdb.Name() != "postgres" {
		t.Skip("set LIVE_BENCH=1 and TEST_DATABASE_URL (PostgreSQL)")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("LIVE_SUBSCRIBERS")); err == nil && v > 0 {
		n = v
	}
	sys := access.System(context.Background())
	dbA, stA, dsn := testdb.OpenDSN(t)
	dbB, stB := testdb.Reopen(t, dsn)
	a, b := startLiveReplica(t, dbA, stA), startLiveReplica(t, dbB, stB)
	bank := dbA.Client.Bank.Create().SetCode("live.bench").SetName("Live").SaveX(sys)

	issue := func(roles ...access.Role) string {
		cl, _, err := admin.CreateClient(sys, dbA.Client, admin.ClientInput{ClientID: "c-" + strconv.Itoa(int(time.Now().UnixNano())), Name: "c", Secret: "secret-0123456789-0123456789-0123456789"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			if _, err := admin.Grant(sys, dbA.Client, &cl.ID, nil, r, &bank.ID); err != nil {
				t.Fatal(err)
			}
		}
		tok, _, err := a.auth.Issue(authn.ClientSubject(cl))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	writer := issue(access.CanCreateCustomer, access.CanGetCustomer)
	// 20 live connections per caller per replica: one dashboard client per 20.
	var dashes []string
	for i := 0; i < (n+19)/20; i++ {
		dashes = append(dashes, issue(access.CanGetCustomer))
	}

	// Baseline: a plain query's round trip to replica A.
	var rtt []time.Duration
	for range 200 {
		t0 := time.Now()
		if _, err := post(a.srv.URL, writer, `{"query":"{ viewer { name } }"}`); err != nil {
			t.Fatal(err)
		}
		rtt = append(rtt, time.Since(t0))
	}
	base := pct(rtt, 50)

	// Memory before the subscribers.
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()

	type arrival struct {
		id string
		at time.Time
	}
	// Subscribe after the stream's current head (waiting for transactions
	// elsewhere on the server to end), so none misses the warm-up change.
	var head changes.Cursor
	for {
		h, err := changes.Head(sys, dbA.Client)
		if err != nil {
			t.Fatal(err)
		}
		last, err := dbA.Client.AuditEvent.Query().Order(auditevent.ByTxid(entsql.OrderDesc()), auditevent.ByID(entsql.OrderDesc())).First(sys)
		if err != nil {
			t.Fatal(err)
		}
		if h.ID == last.ID {
			head = h
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	arrivals := make([][]arrival, n)
	var received atomic.Int64
	var conns []*websocket.Conn
	var wg sync.WaitGroup
	ready := make(chan struct{}, n)
	for i := range n {
		srv := a.srv
		if i%2 == 1 {
			srv = b.srv
		}
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
		c, res, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/query", nil)
		if err != nil {
			t.Fatalf("subscriber %d: %v", i, err)
		}
		res.Body.Close()
		conns = append(conns, c)
		_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + dashes[i/20]}})
		_ = c.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
			"query":     `subscription($after: String) { changes(where: {entityTypes: ["Customer"]}, after: $after) { entityID } }`,
			"variables": map[string]any{"after": head.String()}}})
		wg.Add(1)
		go func(i int, c *websocket.Conn) {
			defer wg.Done()
			acked := false
			for {
				var m struct {
					Type    string
					Payload struct {
						Data struct{ Changes struct{ EntityID string } }
					}
				}
				if err := c.ReadJSON(&m); err != nil {
					return
				}
				switch m.Type {
				case "connection_ack":
					if !acked {
						acked = true
						ready <- struct{}{}
					}
				case "ping":
					_ = c.WriteJSON(map[string]any{"type": "pong"})
				case "next":
					arrivals[i] = append(arrivals[i], arrival{m.Payload.Data.Changes.EntityID, time.Now()})
					received.Add(1)
				}
			}
		}(i, c)
	}
	for range n {
		<-ready
	}
	// Let every subscription register (they start "from now"): one
	// warm-up change that every subscriber must see.
	warm := createCustomer(t, a.srv.URL, writer, "Warm Up")
	for received.Load() < int64(n) {
		time.Sleep(5 * time.Millisecond)
	}
	_ = warm
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	g1 := runtime.NumGoroutine()
	heapPer := float64(int64(m1.HeapInuse)-int64(m0.HeapInuse)) / float64(n)
	stackPer := float64(int64(m1.StackInuse)-int64(m0.StackInuse)) / float64(n)

	// Latency: one change at a time.
	const changesN = 30
	sent := map[string]time.Time{}
	var mutRTT []time.Duration
	for i := range changesN {
		want := received.Load() + int64(n)
		t0 := time.Now()
		id := createCustomer(t, a.srv.URL, writer, "Latency "+strconv.Itoa(i))
		mutRTT = append(mutRTT, time.Since(t0))
		sent[id] = t0
		for received.Load() < want {
			time.Sleep(time.Millisecond)
		}
	}
	var lat []time.Duration
	for i := range n {
		for _, ar := range arrivals[i] {
			if t0, ok := sent[ar.id]; ok {
				lat = append(lat, ar.at.Sub(t0))
			}
		}
	}
	if len(lat) != n*changesN {
		t.Fatalf("deliveries: %d, want %d", len(lat), n*changesN)
	}

	// Throughput: writers change as fast as they can.
	const burst, writers = 200, 4
	start := received.Load()
	t0 := time.Now()
	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for i := range burst / writers {
				createCustomer(t, a.srv.URL, writer, fmt.Sprintf("Burst %d %d", w, i))
			}
		}()
	}
	wwg.Wait()
	writeTime := time.Since(t0)
	for received.Load() < start+int64(n*burst) {
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(t0)

	t.Logf("subscribers: %d (half on each replica), PostgreSQL, GOMAXPROCS %d", n, runtime.GOMAXPROCS(0))
	t.Logf("baseline plain query round trip: p50 %v p99 %v", base, pct(rtt, 99))
	t.Logf("mutation round trip: p50 %v (%.1fx baseline)", pct(mutRTT, 50), ratio(pct(mutRTT, 50), base))
	t.Logf("change-to-delivery (send of the mutation to a subscriber's read): p50 %v (%.1fx baseline), p99 %v (%.1fx baseline)",
		pct(lat, 50), ratio(pct(lat, 50), base), pct(lat, 99), ratio(pct(lat, 99), base))
	t.Logf("memory per idle subscriber (server and client in this process): heap %.1f KiB, stacks %.1f KiB, goroutines %.1f",
		heapPer/1024, stackPer/1024, float64(g1-g0)/float64(n))
	t.Logf("throughput: %d changes by %d writers in %v (%.0f changes/s), %d deliveries in %v: %.0f events/s delivered",
		burst, writers, writeTime.Round(time.Millisecond), float64(burst)/writeTime.Seconds(), n*burst,
		elapsed.Round(time.Millisecond), float64(n*burst)/elapsed.Seconds())
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}

var liveBank sync.Map // "bank" -> the bench bank's id

func createCustomer(t *testing.T, url, token, name string) string {
	bankID, ok := liveBank.Load("bank")
	if !ok {
		b, err := post(url, token, `{"query":"{ banks(where: {code: \"live.bench\"}) { edges { node { id } } } }"}`)
		if err != nil {
			t.Error(err)
			return ""
		}
		var r struct {
			Data struct {
				Banks struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
		_ = json.Unmarshal(b, &r)
		bankID = r.Data.Banks.Edges[0].Node.ID
		liveBank.Store("bank", bankID)
	}
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($b: ID!, $n: String!) { createCustomer(input: {bankID: $b, legalName: $n}) { id } }`,
		"variables": map[string]any{"b": bankID, "n": name},
	})
	b, err := post(url, token, string(body))
	if err != nil {
		t.Error(err)
		return ""
	}
	var r struct {
		Data struct{ CreateCustomer struct{ ID string } }
	}
	_ = json.Unmarshal(b, &r)
	return r.Data.CreateCustomer.ID
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
