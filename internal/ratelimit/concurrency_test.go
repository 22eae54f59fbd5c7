package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
	"custgraph/internal/observe"
	"custgraph/internal/ratelimit"
)

// refusals returns custgraph_rate_limited_total by its limit label.
func refusals(t *testing.T, m *observe.Metrics) map[string]float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() == "custgraph_rate_limited_total" {
			for _, s := range f.Metric {
				out[s.Label[0].GetValue()] = s.Counter.GetValue()
			}
		}
	}
	return out
}

// TestConcurrencyBounds: a caller with PerCaller requests in flight is
// refused more (429, Retry-After) while another caller is served; past
// Total in flight everyone is refused; a finished request frees its place.
// Each refusal is counted by the bound it met.
func TestConcurrencyBounds(t *testing.T) {
	metrics := observe.NewMetrics()
	release := make(chan struct{})
	entered := make(chan struct{}, 16)
	h := ratelimit.Concurrency(ratelimit.ConcurrencyConfig{PerCaller: 2, Total: 3})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("block") != "" {
				entered <- struct{}{}
				<-release
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	a := access.NewViewer(access.KindClient, uuid.New(), "a", nil, nil)
	b := access.NewViewer(access.KindClient, uuid.New(), "b", nil, nil)
	c := access.NewViewer(access.KindClient, uuid.New(), "c", nil, nil)
	call := func(v *access.Viewer, block bool) *httptest.ResponseRecorder {
		url := "/query"
		if block {
			url += "?block=1"
		}
		r := httptest.NewRequest(http.MethodGet, url, nil)
		ctx, _ := observe.NewContext(r.Context(), metrics)
		r = r.WithContext(access.NewContext(ctx, v))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	var wg sync.WaitGroup
	blocked := func(v *access.Viewer) {
		wg.Add(1)
		go func() { defer wg.Done(); assert.Equal(t, http.StatusNoContent, call(v, true).Code) }()
		<-entered
	}
	blocked(a)
	blocked(a)
	w := call(a, false)
	require.Equal(t, http.StatusTooManyRequests, w.Code, "a's third request at once")
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	require.Equal(t, http.StatusNoContent, call(b, false).Code, "b is served meanwhile")
	blocked(b)
	require.Equal(t, http.StatusTooManyRequests, call(c, false).Code, "three in flight in all")
	require.Equal(t, map[string]float64{"caller_concurrency": 1, "total_concurrency": 1}, refusals(t, metrics))
	close(release)
	wg.Wait()
	for _, v := range []*access.Viewer{a, b, c} {
		require.Equal(t, http.StatusNoContent, call(v, false).Code, "places are freed")
	}
}

// TestRunningRequestsQueue: past Running, requests wait for a turn instead
// of running; one that waits past its deadline is refused.
func TestRunningRequestsQueue(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	h := ratelimit.Concurrency(ratelimit.ConcurrencyConfig{Running: 2})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release
			running.Add(-1)
			w.WriteHeader(http.StatusNoContent)
		}))
	var wg sync.WaitGroup
	codes := make(chan int, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/query", nil))
			codes <- w.Code
		}()
	}
	for running.Load() < 2 {
		runtime.Gosched()
	}
	// One more, whose deadline passes while it waits.
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/query", nil).WithContext(ctx))
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		require.Equal(t, http.StatusNoContent, c, "the waiting requests all ran")
	}
	require.EqualValues(t, 2, peak.Load(), "never more than two at once")
}

// TestExemptRequestsAreNotCounted: requests Exempt picks (a subscription's
// stream) take neither a caller's place nor a turn to run, however long
// they stay open; the others are bounded as before.
func TestExemptRequestsAreNotCounted(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 16)
	h := ratelimit.Concurrency(ratelimit.ConcurrencyConfig{PerCaller: 1, Total: 1, Running: 1,
		Exempt: func(r *http.Request) bool { return r.URL.Query().Get("live") != "" }})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("live") != "" {
				entered <- struct{}{}
				<-release
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	a := access.NewViewer(access.KindClient, uuid.New(), "a", nil, nil)
	call := func(url string) int {
		r := httptest.NewRequest(http.MethodGet, url, nil)
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second) // a guard against hanging, not a measure
		defer cancel()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(access.NewContext(ctx, a)))
		return w.Code
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); assert.Equal(t, http.StatusNoContent, call("/query?live=1")) }()
		<-entered
	}
	require.Equal(t, http.StatusNoContent, call("/query"), "three streams open, the caller's request runs")
	close(release)
	wg.Wait()
}
