package ratelimit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"

	"custgraph/internal/access"
	"custgraph/internal/ratelimit"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// window is long enough that no test crosses into a new window in a way
// that changes a result: the sliding rate is continuous at the boundary.
const window = time.Hour

var stores = []string{ratelimit.StoreDatabase, ratelimit.StoreMemory}

// replica is one server: the middleware in front of a handler counting the
// requests that got through.
type replica struct {
	calls atomic.Int64
	h     http.Handler
	sync  func() // syncs the database store's counts with the table now
}

// newReplica starts a replica. Unless cfg says otherwise, its background
// sync never ticks within a test: the tests call rp.sync.
func newReplica(t *testing.T, db *store.DB, cfg ratelimit.Config) *replica {
	t.Helper()
	if cfg.Sync == 0 {
		cfg.Sync = time.Hour
	}
	mw, sync, err := ratelimit.NewWithSync(db, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rp := &replica{sync: sync}
	rp.h = mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rp.calls.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	return rp
}

// do sends a request as v (nil: anonymous) from the address remote.
func (rp *replica) do(v *access.Viewer, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	req.RemoteAddr = remote
	if v != nil {
		req = req.WithContext(access.NewContext(req.Context(), v))
	}
	rec := httptest.NewRecorder()
	rp.h.ServeHTTP(rec, req)
	return rec
}

func client(name string) *access.Viewer {
	return access.NewViewer(access.KindClient, uuid.New(), name, nil, nil)
}

// expect sends n requests and checks they all get status.
func expect(t *testing.T, rp *replica, v *access.Viewer, remote string, n, status int) {
	t.Helper()
	for i := range n {
		if rec := rp.do(v, remote); rec.Code != status {
			t.Fatalf("request %d of %d from %v/%s: status %d, want %d (body %q)", i+1, n, name(v), remote, rec.Code, status, rec.Body)
		}
	}
}

func name(v *access.Viewer) string {
	if v == nil {
		return "anonymous"
	}
	return v.Name
}

// stored is the count the database holds for key, summed over windows.
func stored(t *testing.T, db *store.DB, key string) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(rebind(db, `SELECT COALESCE(SUM(count), 0) FROM rate_limit_counters WHERE key = ?`), key).Scan(&n); err != nil {
		t.Fatalf("reading the counters: %v", err)
	}
	return n
}

// rebind turns ? placeholders into $n on PostgreSQL.
func rebind(db *store.DB, q string) string {
	if db.Dialect != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestTheRequestAfterTheLimitIsRefused(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			db, _ := testdb.Open(t)
			rp := newReplica(t, db, ratelimit.Config{Requests: 3, Window: window, Store: st})
			v := client("a")
			for i := range 3 {
				rec := rp.do(v, "192.0.2.1:1234")
				if rec.Code != http.StatusOK {
					t.Fatalf("request %d: status %d, want 200", i+1, rec.Code)
				}
				h := rec.Header()
				if got := h.Get("X-RateLimit-Limit"); got != "3" {
					t.Errorf("request %d: X-RateLimit-Limit %q, want 3", i+1, got)
				}
				if got, want := h.Get("X-RateLimit-Remaining"), fmt.Sprint(2-i); got != want {
					t.Errorf("request %d: X-RateLimit-Remaining %q, want %s", i+1, got, want)
				}
				if _, ok := h["Retry-After"]; ok {
					t.Errorf("request %d: Retry-After set on an allowed request", i+1)
				}
			}
			for i := range 2 {
				rec := rp.do(v, "192.0.2.1:1234")
				if rec.Code != http.StatusTooManyRequests {
					t.Fatalf("request %d: status %d, want 429", 4+i, rec.Code)
				}
				h := rec.Header()
				if got := h.Get("Retry-After"); got != "3600" {
					t.Errorf("Retry-After %q, want 3600", got)
				}
				if got := h.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type %q, want application/json", got)
				}
				if got := h.Get("X-RateLimit-Remaining"); got != "0" {
					t.Errorf("X-RateLimit-Remaining %q, want 0", got)
				}
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("body %q is not JSON: %v", rec.Body, err)
				}
				want := map[string]string{"error": "rate_limited", "message": "too many requests; retry after 3600 seconds"}
				if len(body) != len(want) || body["error"] != want["error"] || body["message"] != want["message"] {
					t.Errorf("body %v, want %v", body, want)
				}
			}
			if got := rp.calls.Load(); got != 3 {
				t.Errorf("the handler ran %d times, want 3", got)
			}
			if st == ratelimit.StoreDatabase {
				// Refused requests are not counted.
				rp.sync()
				if got := stored(t, db, "client:"+v.ID.String()); got != 3 {
					t.Errorf("the database counts %d requests, want 3", got)
				}
			}
		})
	}
}

func TestReplicasShareTheDatabaseCount(t *testing.T) {
	db, _ := testdb.Open(t)
	cfg := ratelimit.Config{Requests: 4, Window: window, Store: ratelimit.StoreDatabase}
	a, b := newReplica(t, db, cfg), newReplica(t, db, cfg)
	v := client("a")
	expect(t, a, v, "192.0.2.1:1", 2, http.StatusOK)
	a.sync()
	// b has not seen the caller: its first request reads a's two.
	expect(t, b, v, "192.0.2.1:1", 2, http.StatusOK)
	expect(t, b, v, "192.0.2.1:1", 1, http.StatusTooManyRequests)
	b.sync()
	// a learns b's two at its next sync (the caller's request touched it).
	a.do(v, "192.0.2.1:1")
	a.sync()
	expect(t, a, v, "192.0.2.1:1", 1, http.StatusTooManyRequests)
	if got := a.calls.Load() + b.calls.Load(); got > 5 {
		t.Errorf("handlers ran %d times, want at most 5 (4 + what a admitted before its sync)", got)
	}
	a.sync()
	if got := stored(t, db, "client:"+v.ID.String()); got != int(a.calls.Load()+b.calls.Load()) {
		t.Errorf("the database counts %d requests, want the %d admitted", got, a.calls.Load()+b.calls.Load())
	}
}

// TestAStaleViewIsReadAgain: a replica whose view of a caller is older than
// two sync intervals reads the caller's counts before deciding, so what the
// other replicas admitted meanwhile counts at once.
func TestAStaleViewIsReadAgain(t *testing.T) {
	db, _ := testdb.Open(t)
	a := newReplica(t, db, ratelimit.Config{Requests: 4, Window: window, Sync: 10 * time.Millisecond})
	b := newReplica(t, db, ratelimit.Config{Requests: 4, Window: window})
	v := client("a")
	key := "client:" + v.ID.String()
	expect(t, a, v, "192.0.2.1:1", 2, http.StatusOK)
	waitStored(t, db, key, 2) // a's background loop synced
	expect(t, b, v, "192.0.2.1:1", 2, http.StatusOK)
	b.sync()
	time.Sleep(30 * time.Millisecond) // a's view is now more than two intervals old
	expect(t, a, v, "192.0.2.1:1", 1, http.StatusTooManyRequests)
}

// waitStored waits (up to 10 s) until the table holds want requests of key.
func waitStored(t *testing.T, db *store.DB, key string, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got := stored(t, db, key)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the table holds %d requests of %s, want %d: the background sync did not run", got, key, want)
		}
	}
}

func TestTheMemoryStoreIsPerReplica(t *testing.T) {
	db, _ := testdb.Open(t)
	cfg := ratelimit.Config{Requests: 4, Window: window, Store: ratelimit.StoreMemory}
	a, b := newReplica(t, db, cfg), newReplica(t, db, cfg)
	v := client("a")
	expect(t, a, v, "192.0.2.1:1", 2, http.StatusOK)
	expect(t, b, v, "192.0.2.1:1", 2, http.StatusOK)
	// Each replica has seen only 2 of its 4: 2N in all before both refuse.
	expect(t, a, v, "192.0.2.1:1", 2, http.StatusOK)
	expect(t, b, v, "192.0.2.1:1", 2, http.StatusOK)
	expect(t, a, v, "192.0.2.1:1", 1, http.StatusTooManyRequests)
	expect(t, b, v, "192.0.2.1:1", 1, http.StatusTooManyRequests)
	if got := a.calls.Load() + b.calls.Load(); got != 8 {
		t.Errorf("handlers ran %d times, want 8 (2N)", got)
	}
}

func TestCallersAreCountedSeparately(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			db, _ := testdb.Open(t)
			rp := newReplica(t, db, ratelimit.Config{Requests: 2, Window: window, Store: st})
			a, b := client("a"), client("b")
			// A user who happens to share a's ID is another caller.
			u := access.NewViewer(access.KindUser, a.ID, "u", nil, nil)
			ip := "192.0.2.1:1"
			expect(t, rp, a, ip, 2, http.StatusOK)
			expect(t, rp, a, ip, 1, http.StatusTooManyRequests)
			// A viewer is keyed by who it is, not where it calls from.
			expect(t, rp, a, "198.51.100.9:2", 1, http.StatusTooManyRequests)
			expect(t, rp, b, ip, 2, http.StatusOK)
			expect(t, rp, b, ip, 1, http.StatusTooManyRequests)
			expect(t, rp, u, ip, 2, http.StatusOK)
			expect(t, rp, u, ip, 1, http.StatusTooManyRequests)
			// The address the viewers called from has its own budget.
			expect(t, rp, nil, ip, 2, http.StatusOK)
			expect(t, rp, nil, ip, 1, http.StatusTooManyRequests)
			if got := rp.calls.Load(); got != 8 {
				t.Errorf("the handler ran %d times, want 8", got)
			}
		})
	}
}

func TestAnonymousCallersAreKeyedByIP(t *testing.T) {
	db, _ := testdb.Open(t)
	rp := newReplica(t, db, ratelimit.Config{Requests: 2, Window: window})
	// As mounted in the server: behind chi's RealIP.
	inner := rp.h
	rp.h = middleware.RealIP(inner)

	// The port does not matter.
	expect(t, rp, nil, "192.0.2.1:1111", 1, http.StatusOK)
	expect(t, rp, nil, "192.0.2.1:2222", 1, http.StatusOK)
	expect(t, rp, nil, "192.0.2.1:3333", 1, http.StatusTooManyRequests)
	expect(t, rp, nil, "192.0.2.2:1111", 2, http.StatusOK)
	expect(t, rp, nil, "192.0.2.2:1111", 1, http.StatusTooManyRequests)
	// IPv6 addresses count by /64.
	expect(t, rp, nil, "[2001:db8:1:2::1]:1", 1, http.StatusOK)
	expect(t, rp, nil, "[2001:db8:1:2::ffff]:1", 1, http.StatusOK)
	expect(t, rp, nil, "[2001:db8:1:2::1]:1", 1, http.StatusTooManyRequests)
	expect(t, rp, nil, "[2001:db8:1:3::1]:1", 2, http.StatusOK)

	// RealIP rewrites RemoteAddr from X-Real-IP: one caller, two proxies.
	for i, proxy := range []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = proxy
		req.Header.Set("X-Real-IP", "203.0.113.7")
		rec := httptest.NewRecorder()
		rp.h.ServeHTTP(rec, req)
		if want := []int{200, 200, 429}[i]; rec.Code != want {
			t.Fatalf("request %d through %s: status %d, want %d", i+1, proxy, rec.Code, want)
		}
	}
	rp.sync()
	if got := stored(t, db, "ip:203.0.113.7"); got != 2 {
		t.Errorf("the database counts %d requests for ip:203.0.113.7, want 2", got)
	}
}

func TestKey(t *testing.T) {
	id := uuid.New()
	req := func(remote string, v *access.Viewer) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		if v != nil {
			r = r.WithContext(access.NewContext(r.Context(), v))
		}
		return r
	}
	for _, tc := range []struct {
		r    *http.Request
		want string
	}{
		{req("192.0.2.1:1234", access.NewViewer(access.KindClient, id, "c", nil, nil)), "client:" + id.String()},
		{req("192.0.2.1:1234", access.NewViewer(access.KindUser, id, "u", nil, nil)), "user:" + id.String()},
		{req("192.0.2.1:1234", nil), "ip:192.0.2.1"},
		{req("192.0.2.1", nil), "ip:192.0.2.1"}, // as RealIP leaves it
		{req("[::ffff:192.0.2.1]:1", nil), "ip:192.0.2.1"},
		{req("[2001:db8:1:2:3:4:5:6]:1", nil), "ip:2001:db8:1:2::/64"},
		{req("2001:db8:1:2:3:4:5:6", nil), "ip:2001:db8:1:2::/64"},
		{req("not an address", nil), "ip:not an address"},
	} {
		if got := ratelimit.Key(tc.r); got != tc.want {
			t.Errorf("Key(RemoteAddr %q) = %q, want %q", tc.r.RemoteAddr, got, tc.want)
		}
	}

	// An IP stored by chi's ClientIPFrom* middlewares wins over RemoteAddr.
	var got string
	h := middleware.ClientIPFromHeader("X-Real-IP")(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = ratelimit.Key(r)
	}))
	r := req("10.0.0.1:1", nil)
	r.Header.Set("X-Real-IP", "203.0.113.7")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "ip:203.0.113.7" {
		t.Errorf("Key behind ClientIPFromHeader = %q, want ip:203.0.113.7", got)
	}
}

func TestZeroRequestsDisablesLimiting(t *testing.T) {
	for _, n := range []int{0, -1} {
		// No database, no window, no store needed.
		rp := newReplica(t, nil, ratelimit.Config{Requests: n})
		v := client("a")
		expect(t, rp, v, "192.0.2.1:1", 50, http.StatusOK)
		rec := rp.do(v, "192.0.2.1:1")
		if _, ok := rec.Header()["X-Ratelimit-Limit"]; ok {
			t.Errorf("Requests=%d: X-RateLimit-Limit set by a disabled limiter", n)
		}
		if got := rp.calls.Load(); got != 51 {
			t.Errorf("Requests=%d: the handler ran %d times, want 51", n, got)
		}
	}
}

// TestARequestRunsNoStatement: once a replica has read a caller's counts,
// its requests touch no database (here: a closed one, which would fail and
// warn); the sync does.
func TestARequestRunsNoStatement(t *testing.T) {
	// Not parallel: swaps the default logger.
	defer ratelimit.SetWarnEvery(time.Hour)()
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	defer slog.SetDefault(old)

	db, _ := testdb.Open(t)
	rp := newReplica(t, db, ratelimit.Config{Requests: 100, Window: window})
	v := client("a")
	expect(t, rp, v, "192.0.2.1:1", 1, http.StatusOK)
	rp.sync()
	if err := db.SQL.Close(); err != nil {
		t.Fatalf("closing the database: %v", err)
	}
	expect(t, rp, v, "192.0.2.1:1", 50, http.StatusOK)
	if l := limiterLines(&logs); len(l) != 0 {
		t.Fatalf("requests ran statements on the closed database:\n%s", strings.Join(l, "\n"))
	}
	rp.sync()
	if l := limiterLines(&logs); len(l) != 1 || !strings.Contains(l[0], "closed") {
		t.Errorf("the sync logged %q, want the closed database's error", l)
	}
}

// TestABrokenDatabaseLimitsPerReplica: when the table cannot be reached, each
// replica goes on counting on its own, so the limit holds per replica, and
// the failures are logged once.
func TestABrokenDatabaseLimitsPerReplica(t *testing.T) {
	// Not parallel: swaps the default logger.
	defer ratelimit.SetWarnEvery(time.Hour)()
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	defer slog.SetDefault(old)

	db, _ := testdb.Open(t)
	rp := newReplica(t, db, ratelimit.Config{Requests: 2, Window: window})
	v, w := client("a"), client("b")
	expect(t, rp, v, "192.0.2.1:1", 2, http.StatusOK)
	if err := db.SQL.Close(); err != nil {
		t.Fatalf("closing the database: %v", err)
	}
	rp.sync()
	expect(t, rp, v, "192.0.2.1:1", 3, http.StatusTooManyRequests)
	// A caller first seen now cannot be read: counted from zero here.
	expect(t, rp, w, "192.0.2.1:1", 2, http.StatusOK)
	expect(t, rp, w, "192.0.2.1:1", 1, http.StatusTooManyRequests)
	rp.sync()
	if got := rp.calls.Load(); got != 4 {
		t.Errorf("the handler ran %d times, want 4", got)
	}

	// Several failures (syncs, a read), one warning.
	lines := limiterLines(&logs)
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want 1 (rate-limited):\n%s", len(lines), logs.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("log line %q: %v", lines[0], err)
	}
	if rec["level"] != "WARN" || !strings.Contains(fmt.Sprint(rec["err"]), "closed") {
		t.Errorf("log record %v, want a WARN with the database error", rec)
	}

	// Creating a limiter on a broken database is an error at start-up.
	if _, err := ratelimit.New(db, ratelimit.Config{Requests: 2, Window: window}); err == nil {
		t.Errorf("New on a closed database: no error")
	}
}

func TestOnLimitRunsWithRetryAfterSet(t *testing.T) {
	db, _ := testdb.Open(t)
	var (
		calls  int
		header string
		after  time.Duration
	)
	rp := newReplica(t, db, ratelimit.Config{Requests: 1, Window: 90*time.Second + time.Millisecond,
		OnLimit: func(w http.ResponseWriter, _ *http.Request, retryAfter time.Duration) {
			calls++
			header, after = w.Header().Get("Retry-After"), retryAfter
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("slow down"))
		}})
	v := client("a")
	expect(t, rp, v, "192.0.2.1:1", 1, http.StatusOK)
	if calls != 0 {
		t.Fatalf("OnLimit ran for an allowed request")
	}
	rec := rp.do(v, "192.0.2.1:1")
	if calls != 1 {
		t.Fatalf("OnLimit ran %d times, want 1", calls)
	}
	// 90.001 s rounds up to 91.
	if header != "91" || after != 91*time.Second {
		t.Errorf("OnLimit saw Retry-After %q and retryAfter %v, want 91 and 1m31s", header, after)
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "slow down" || rec.Header().Get("Retry-After") != "91" {
		t.Errorf("response %d %q Retry-After %q, want OnLimit's 503 with Retry-After 91", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
	if rp.calls.Load() != 1 {
		t.Errorf("the handler ran %d times, want 1", rp.calls.Load())
	}
}

func TestRetryAfterIsWholeSecondsOfAtLeastOne(t *testing.T) {
	for w, want := range map[time.Duration]time.Duration{
		time.Millisecond:        time.Second,
		500 * time.Millisecond:  time.Second,
		time.Second:             time.Second,
		1500 * time.Millisecond: 2 * time.Second,
		time.Minute:             time.Minute,
		time.Hour:               time.Hour,
	} {
		if got := ratelimit.RetryAfter(w); got != want {
			t.Errorf("RetryAfter(%v) = %v, want %v", w, got, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	db, _ := testdb.Open(t)
	for _, tc := range []struct {
		db  *store.DB
		cfg ratelimit.Config
	}{
		{db, ratelimit.Config{Requests: 1}},
		{db, ratelimit.Config{Requests: 1, Window: -time.Second}},
		{db, ratelimit.Config{Requests: 1, Window: time.Microsecond}},
		{db, ratelimit.Config{Requests: 1, Window: time.Minute, Store: "redis"}},
		{nil, ratelimit.Config{Requests: 1, Window: time.Minute, Store: ratelimit.StoreDatabase}},
		{nil, ratelimit.Config{Requests: 1, Window: time.Minute}},
	} {
		if _, err := ratelimit.New(tc.db, tc.cfg); err == nil {
			t.Errorf("New(db=%v, %+v): no error", tc.db != nil, tc.cfg)
		}
	}
	// The memory store needs no database.
	if _, err := ratelimit.New(nil, ratelimit.Config{Requests: 1, Window: time.Minute, Store: ratelimit.StoreMemory}); err != nil {
		t.Errorf("New(nil, memory): %v", err)
	}
}

// hammer sends n concurrent requests as v, spread over the replicas, and
// returns how many got through.
func hammer(t *testing.T, v *access.Viewer, n int, replicas ...*replica) int {
	t.Helper()
	var (
		wg     sync.WaitGroup
		passed atomic.Int64
		other  atomic.Int64
	)
	for i := range n {
		wg.Go(func() {
			switch rp := replicas[i%len(replicas)]; rp.do(v, "192.0.2.1:1").Code {
			case http.StatusOK:
				passed.Add(1)
			case http.StatusTooManyRequests:
			default:
				other.Add(1)
			}
		})
	}
	wg.Wait()
	if other.Load() != 0 {
		t.Errorf("%d requests got neither 200 nor 429", other.Load())
	}
	return int(passed.Load())
}

func TestConcurrentRequestsInOneReplicaAreCountedExactly(t *testing.T) {
	for _, st := range stores {
		t.Run(st, func(t *testing.T) {
			db, _ := testdb.Open(t)
			rp := newReplica(t, db, ratelimit.Config{Requests: 10, Window: window, Store: st})
			if got := hammer(t, client("a"), 40, rp); got != 10 {
				t.Errorf("%d of 40 concurrent requests passed, want exactly 10", got)
			}
		})
	}
}

// TestConcurrentRequestsAcrossReplicasAreReconciledAtTheSync: a burst spread
// over two replicas between two syncs gets at most what each replica admits
// on its own view (the documented bound); after the sync both replicas
// refuse, and the table holds every admitted request.
func TestConcurrentRequestsAcrossReplicasAreReconciledAtTheSync(t *testing.T) {
	db, _ := testdb.Open(t)
	cfg := ratelimit.Config{Requests: 10, Window: window}
	a, b := newReplica(t, db, cfg), newReplica(t, db, cfg)
	v := client("a")
	if got := hammer(t, v, 40, a, b); got < 10 || got > 20 {
		t.Errorf("%d of 40 concurrent requests through 2 replicas passed, want 10 to 20", got)
	}
	a.sync()
	b.sync()
	if got := hammer(t, v, 20, a, b); got != 0 {
		t.Errorf("%d requests passed after the sync, want 0", got)
	}
	if got, want := stored(t, db, "client:"+v.ID.String()), int(a.calls.Load()+b.calls.Load()); got != want {
		t.Errorf("the table holds %d requests, want the %d admitted", got, want)
	}
}

func TestNewConcurrentlyOnOneDatabase(t *testing.T) {
	// Replicas starting together all create the table if absent.
	db, _ := testdb.Open(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = ratelimit.New(db, ratelimit.Config{Requests: 1, Window: window})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("New #%d: %v", i, err)
		}
	}
}

func TestTheTableIsUnloggedOnPostgres(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("PostgreSQL only; set " + testdb.Env)
	}
	db, _ := testdb.Open(t)
	if _, err := ratelimit.New(db, ratelimit.Config{Requests: 1, Window: window}); err != nil {
		t.Fatal(err)
	}
	var p string
	if err := db.SQL.QueryRow(`SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_counters'`).Scan(&p); err != nil {
		t.Fatal(err)
	}
	if p != "u" {
		t.Errorf("relpersistence %q, want u (unlogged)", p)
	}
}

// limiterLines are the lines the limiter logged; on PostgreSQL closing the
// database also makes its change listener log that its connection broke.
func limiterLines(logs *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "rate limiting") {
			out = append(out, l)
		}
	}
	return out
}

// TestAStalledTableDoesNotHoldTheRequest: a caller new to the replica is
// read from the table first, but a table that does not answer (here: locked,
// with the statement's own bound lifted) does not hold its request: the
// replica decides on its own view after a short wait, as when the table
// fails. It waited for the table (about 6 s for a stalled connection).
func TestAStalledTableDoesNotHoldTheRequest(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite's readers do not wait for a lock; set " + testdb.Env)
	}
	defer ratelimit.SetDBTimeout(time.Hour)()
	db, _ := testdb.Open(t)
	rp := newReplica(t, db, ratelimit.Config{Requests: 5, Window: window})
	lock, err := db.SQL.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec("LOCK TABLE rate_limit_counters IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- rp.do(client("a"), "192.0.2.1:1").Code }()
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Fatalf("status %d, want 200", code)
		}
	case <-time.After(30 * time.Second): // a guard against hanging, not a measure
		t.Fatal("the request waited for the locked table")
	}
}
