package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"custgraph/internal/testdb"
)

// TestRollingRestartFailsNoRequest restarts both replicas of a deployment,
// one after the other, under a steady load of reads and writes, with default
// settings (but for the per-caller bounds, which one caller at this rate
// would meet), behind the simplest load balancer: it sends new requests only
// to replicas whose /readyz answered 200 at its last check (every 50 ms).
// Every request must succeed, and every create the clients were told
// succeeded must be in the database afterwards.
func TestRollingRestartFailsNoRequest(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("replicas share a PostgreSQL database; set " + testdb.Env)
	}
	bin := buildBinary(t)
	dsn := testdb.EmptyDSN(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	args := []string{"--database-url", dsn, "--rate-limit", "1000000", "--max-concurrent-per-caller", "0"}
	start := func() *process { return launch(t, ctx, bin, args...) }

	a := start()
	b := start()
	token := a.accessToken(t)
	client := &http.Client{Timeout: 10 * time.Second}
	var bank struct {
		CreateBank struct{ ID string } `json:"createBank"`
	}
	gql(t, client, a.base, token, `mutation { createBank(input: {code: "rr.01", name: "Rolling"}) { id } }`, nil, &bank)

	lb := &balancer{}
	lb.set([]*process{a, b})
	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Go(func() { lb.check(stop) })

	const clients = 8
	var (
		wg       sync.WaitGroup
		reads    atomic.Int64
		creates  atomic.Int64
		failures = make(chan string, clients)
	)
	for i := range clients {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				base := lb.pick()
				var err error
				if (i+n)%4 == 0 {
					err = post(client, base, token, `mutation($b: ID!, $n: String!) { createCustomer(input: {bankID: $b, legalName: $n}) { id } }`,
						map[string]any{"b": bank.CreateBank.ID, "n": fmt.Sprintf("Rolling %d-%d", i, n)}, "createCustomer")
					if err == nil {
						creates.Add(1)
					}
				} else {
					err = post(client, base, token, `{ customers(first: 5) { totalCount edges { node { id legalName } } } }`, nil, "customers")
					if err == nil {
						reads.Add(1)
					}
				}
				if err != nil {
					failures <- fmt.Sprintf("%s: %v", base, err)
					return
				}
			}
		})
	}

	// Restart a, then b: SIGTERM, wait for the exit (the drain keeps it
	// serving with /readyz at 503 meanwhile), start a new one, let it take
	// load.
	restart := func(old *process, other *process) *process {
		t.Helper()
		time.Sleep(time.Second)
		if err := old.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := old.wait(t, time.Minute); code != 0 {
			t.Fatalf("a replica exited %d after SIGTERM, want 0", code)
		}
		fresh := start()
		lb.set([]*process{fresh, other})
		return fresh
	}
	a = restart(a, b)
	b = restart(b, a)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	checker.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("a request failed during the rolling restart: %s", f)
	}
	if reads.Load() < 50 || creates.Load() < 10 {
		t.Fatalf("only %d reads and %d creates succeeded: the load did not run through the restarts", reads.Load(), creates.Load())
	}

	var count struct {
		Node struct{ Customers struct{ TotalCount int } } `json:"node"`
	}
	gql(t, client, b.base, token, `query($b: ID!) { node(id: $b) { ... on Bank { customers { totalCount } } } }`,
		map[string]any{"b": bank.CreateBank.ID}, &count)
	if got := count.Node.Customers.TotalCount; got != int(creates.Load()) {
		t.Errorf("the bank holds %d customers, want the %d creates that were answered", got, creates.Load())
	}
	t.Logf("%d reads and %d creates through two restarts, none failed", reads.Load(), creates.Load())
}

// balancer routes requests to the replicas whose /readyz said 200 at the
// last check.
type balancer struct {
	mu       sync.Mutex
	replicas []*process
	ready    []string
	next     int
}

func (lb *balancer) set(ps []*process) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.replicas = ps
	lb.ready = nil
	for _, p := range ps {
		lb.ready = append(lb.ready, p.base)
	}
}

func (lb *balancer) pick() string {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.next++
	return lb.ready[lb.next%len(lb.ready)]
}

// check polls every replica's /readyz every 50 ms until stop is closed.
func (lb *balancer) check(stop <-chan struct{}) {
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
		lb.mu.Lock()
		ps := lb.replicas
		lb.mu.Unlock()
		var ready []string
		for _, p := range ps {
			if readyz(probe, p) == http.StatusOK {
				ready = append(ready, p.base)
			}
		}
		if len(ready) > 0 {
			lb.mu.Lock()
			lb.ready = ready
			lb.mu.Unlock()
		}
	}
}

// post sends a GraphQL request and checks the answer is 200 with data.field
// and no errors.
func post(client *http.Client, base, token, query string, vars map[string]any, field string) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []json.RawMessage          `json:"errors"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || len(out.Errors) > 0 || len(out.Data[field]) == 0 {
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return nil
}

// gql runs a GraphQL request that must succeed and decodes its data into out.
func gql(t *testing.T, client *http.Client, base, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: status %d: %s", query, resp.StatusCode, b)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
