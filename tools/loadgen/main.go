// Command loadgen sends a bounded GraphQL load to a RUNNING custgraph server
// on this machine and reports, per scenario, the requests, errors, requests
// per second, p50/p99 latency, SQL statements per request (from the
// server's custgraph_sql_statements_total metric) and the ratio of its
// requests per second to the baseline's, measured in the same run.
//
//	go run . --demo --database-url /tmp/x.db --addr 127.0.0.1:18181 &
//	go run ./tools/loadgen -url http://127.0.0.1:18181/query -c 4 -d 10s -scenario all
//
// It authenticates as the demo administrator (-client-id, -client-secret):
// one token from /oauth/token on the same host, sent with every request.
//
// The scenarios are those of the bench package (bench/scenarios.go):
// baseline, first_page, customer_by_id, deep_page, first_page_no_count.
// A single scenario runs after the baseline, which the ratio needs. The
// fixture (a customer id, a cursor 90% into the customer list) is found
// through the API before anything is timed. Only loopback addresses are
// accepted, the duration is capped at 5 minutes per scenario, and the SQL
// figures assume that nothing else uses the server meanwhile.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"custgraph/bench"
	"custgraph/internal/demo"
)

const (
	maxDuration    = 5 * time.Minute
	maxConcurrency = 256
	metricName     = "custgraph_sql_statements_total"
)

type options struct {
	url, metrics, scenario string
	concurrency            int
	duration, timeout      time.Duration
	deep                   float64
	clientID, clientSecret string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080/query", "GraphQL endpoint of the running server (loopback only)")
	flag.StringVar(&o.metrics, "metrics", "", "Prometheus metrics URL (default: /metrics on the -url host)")
	flag.StringVar(&o.scenario, "scenario", "all", "baseline|first_page|customer_by_id|deep_page|first_page_no_count|all")
	flag.IntVar(&o.concurrency, "c", 4, "concurrent clients")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "duration of each scenario (at most 5m)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request time limit")
	flag.Float64Var(&o.deep, "deep", 0.9, "position of deep_page's cursor in the customer list (0..1)")
	flag.StringVar(&o.clientID, "client-id", demo.AdminClientID, "API client to authenticate as")
	flag.StringVar(&o.clientSecret, "client-secret", demo.AdminClientSecret, "its secret")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// loopbackURL refuses any URL whose host is not a loopback address.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s: only http(s) URLs", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%s: refusing a non-loopback host %q (use 127.0.0.1, [::1] or localhost)", raw, host)
	}
	return u, nil
}

// loopbackDialer refuses, at connection time, any address that is not a
// loopback one (whatever a name resolved to).
func loopbackDialer() *net.Dialer {
	return &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("refusing to connect to non-loopback address %s", address)
			}
			return nil
		},
	}
}

type result struct {
	name      string
	requests  int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
	sql       float64 // statements per request; NaN when unknown
	firstErr  string
}

func (r *result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func run(ctx context.Context, o options, out io.Writer) error {
	u, err := loopbackURL(o.url)
	if err != nil {
		return err
	}
	if o.metrics == "" {
		m := *u
		m.Path, m.RawQuery = "/metrics", ""
		o.metrics = m.String()
	}
	if _, err := loopbackURL(o.metrics); err != nil {
		return err
	}
	if o.duration <= 0 || o.duration > maxDuration {
		return fmt.Errorf("-d must be between 0 and %v", maxDuration)
	}
	if o.concurrency < 1 || o.concurrency > maxConcurrency {
		return fmt.Errorf("-c must be between 1 and %d", maxConcurrency)
	}
	if o.deep < 0 || o.deep > 1 {
		return errors.New("-deep must be between 0 and 1")
	}
	var names []string
	switch {
	case o.scenario == "all":
		names = bench.Names
	case slices.Contains(bench.Names, o.scenario):
		names = []string{bench.Baseline}
		if o.scenario != bench.Baseline {
			names = append(names, o.scenario)
		}
	default:
		return fmt.Errorf("unknown scenario %q (%s or all)", o.scenario, strings.Join(bench.Names, ", "))
	}

	client := &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			DialContext:         loopbackDialer().DialContext,
			MaxIdleConns:        o.concurrency * 2,
			MaxIdleConnsPerHost: o.concurrency * 2,
			IdleConnTimeout:     30 * time.Second,
		},
		// A redirect could lead off this machine: never follow one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	token, err := fetchToken(ctx, client, u, o.clientID, o.clientSecret)
	if err != nil {
		return err
	}
	post := func(ctx context.Context, body []byte) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return b, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
		}
		return b, nil
	}

	pctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	start := time.Now()
	fx, err := bench.Prepare(pctx, post, o.deep)
	cancel()
	if err != nil {
		return fmt.Errorf("preparing the fixture: %w", err)
	}
	fmt.Fprintf(out, "server %s: %d customers; customer_by_id reads %s; deep_page starts after row %d (found by walking %d pages in %v)\n",
		u.Host, fx.TotalCount, fx.CustomerID, fx.DeepOffset, fx.WalkedPages, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(out, "%d clients, %v per scenario\n\n", o.concurrency, o.duration)
	reqs := fx.Requests()
	for _, name := range names { // every request must work before it is timed
		b, err := post(ctx, reqs[name])
		if err == nil {
			_, err = bench.Check(b)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}

	var results []*result
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		r := load(ctx, client, post, o, name, reqs[name])
		results = append(results, r)
	}
	report(out, results)
	return nil
}

// load runs one scenario for o.duration with o.concurrency clients.
func load(ctx context.Context, client *http.Client, post bench.Poster, o options, name string, body []byte) *result {
	r := &result{name: name}
	before, errBefore := readCounter(ctx, client, o.metrics)
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		errCount atomic.Int64
	)
	start := time.Now()
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var firstErr string
			for ctx.Err() == nil {
				t := time.Now()
				b, err := post(ctx, body)
				if ctx.Err() != nil {
					break // cut off by the end of the run: not counted
				}
				if err == nil {
					err = bench.QuickCheck(b)
				}
				lat = append(lat, time.Since(t))
				if err != nil {
					errCount.Add(1)
					if firstErr == "" {
						firstErr = err.Error()
					}
				}
			}
			mu.Lock()
			r.latencies = append(r.latencies, lat...)
			if r.firstErr == "" {
				r.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.requests = len(r.latencies)
	r.errors = int(errCount.Load())
	// The statements of the requests cut off at the end are counted too;
	// with short requests that is at most c requests' worth.
	after, errAfter := readCounter(context.Background(), client, o.metrics)
	r.sql = -1
	if errBefore == nil && errAfter == nil && r.requests > 0 {
		r.sql = (after - before) / float64(r.requests)
	}
	return r
}

// readCounter reads custgraph_sql_statements_total from the metrics page.
func readCounter(ctx context.Context, client *http.Client, metricsURL string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, metricName+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s not found at %s", metricName, metricsURL)
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func report(out io.Writer, results []*result) {
	var baseRPS float64
	for _, r := range results {
		if r.name == bench.Baseline {
			baseRPS = r.rps()
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests\terrors\treq/s\tp50\tp99\tsql/req\treq/s vs baseline\t")
	for _, r := range results {
		slices.Sort(r.latencies)
		sql := "n/a"
		if r.sql >= 0 {
			sql = strconv.FormatFloat(r.sql, 'f', 2, 64)
		}
		ratio := "n/a"
		if baseRPS > 0 {
			ratio = fmt.Sprintf("%.4f (1/%.1f)", r.rps()/baseRPS, baseRPS/r.rps())
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%v\t%v\t%s\t%s\t\n", r.name, r.requests, r.errors, r.rps(),
			pct(r.latencies, 0.50).Round(10*time.Microsecond), pct(r.latencies, 0.99).Round(10*time.Microsecond), sql, ratio)
	}
	tw.Flush()
	for _, r := range results {
		if r.firstErr != "" {
			fmt.Fprintf(out, "%s: first error: %s\n", r.name, r.firstErr)
		}
	}
}

// fetchToken gets an access token from the server's /oauth/token
// (client-credentials grant, client_secret_basic).
func fetchToken(ctx context.Context, client *http.Client, api *url.URL, id, secret string) (string, error) {
	tu := *api
	tu.Path, tu.RawQuery = "/oauth/token", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tu.String(),
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("getting a token from %s: HTTP %d %s %v", tu.String(), resp.StatusCode, t.Error, err)
	}
	return t.AccessToken, nil
}
