package bench

// How to run (see the package comment of scenarios.go for the scenarios):
//
//	go test ./bench/ -run '^$' -bench . -benchtime 200x
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	    go test ./bench/ -run '^$' -bench . -benchtime 200x
//
// Every figure is also reported as x_baseline: its ns/op divided by the
// baseline's ({ __typename } through the same handler) in the same run.
// sql/op is the number of SQL statements per request.
//
// The data set is the demo data with BENCH_CUSTOMERS generated customers
// (default 100,000). Seeding it takes a minute or two, so it is kept between
// runs: as a SQLite file in os.TempDir(), or as a PostgreSQL database named
// custgraph_bench_<key>, the key being a hash of the ent migration schema,
// the demo generator and the customer count. BENCH_FRESH=1 seeds anew.
// Plain `go test ./...` runs only TestScenarios, on 300 customers.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/demo"
	"custgraph/internal/observe"
	"custgraph/internal/server"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// benchCustomers is the size of the benchmark's data set.
func benchCustomers() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_CUSTOMERS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// env is a server over a seeded database.
type env struct {
	db         *store.DB
	handler    http.Handler
	statements *atomic.Int64
	fixture    *Fixture
	label      string // "sqlite, 100001 customers"
}

func newEnv(db *store.DB, statements *atomic.Int64) *env {
	h := server.New(db, statements, server.Config{
		GraphQL: graph.Options{
			// The defaults of server.go's flags.
			Limits:       graph.DefaultLimits,
			MaxBodyBytes: 1 << 20,
			APQCacheSize: 1000,
		},
		Logger:  slog.New(slog.DiscardHandler),
		Tracing: benchTracing(),
	})
	return &env{db: db, handler: h, statements: statements}
}

// benchTracing is tracing on when BENCH_TRACING=1: every request traced
// (the SDK's default sampler, no incoming trace), its spans batched and
// encoded by the console exporter into io.Discard; nil (tracing off, the
// default) otherwise.
func benchTracing() *observe.Tracing {
	if os.Getenv("BENCH_TRACING") != "1" {
		return nil
	}
	exp, err := stdouttrace.New(stdouttrace.WithWriter(io.Discard))
	if err != nil {
		panic(err)
	}
	return &observe.Tracing{Provider: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))}
}

// post sends one request through the real HTTP handler, in process.
func (e *env) post(ctx context.Context, body []byte) ([]byte, error) {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.300s", rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes(), nil
}

// sqlOf sends one request and returns the number of SQL statements it ran
// (requests are sequential here, so the global counter is exact).
func (e *env) sqlOf(tb testing.TB, body []byte) int64 {
	tb.Helper()
	before := e.statements.Load()
	resp, err := e.post(access.System(context.Background()), body)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := Check(resp); err != nil {
		tb.Fatal(err)
	}
	return e.statements.Load() - before
}

var (
	benchOnce sync.Once
	benchEnv  *env
	benchErr  error
)

// setup seeds (or reuses) the benchmark data set once per process.
func setup(b *testing.B) *env {
	benchOnce.Do(func() { benchEnv, benchErr = openBenchDB() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchEnv
}

func BenchmarkGraphQL(b *testing.B) {
	e := setup(b)
	reqs := e.fixture.Requests()

	// Each request is checked in full once before it is timed.
	for _, name := range Names {
		resp, err := e.post(access.System(context.Background()), reqs[name])
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		if _, err := Check(resp); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
	// A reference for the ratios even when -bench filters the baseline
	// out; the baseline sub-benchmark replaces it with its own figure.
	baseline := measure(b, e, reqs[Baseline], 300)

	results := map[string][2]float64{} // ns/op, sql/op
	for _, name := range Names {
		body := reqs[name]
		b.Run(name, func(b *testing.B) {
			ctx := access.System(context.Background())
			start, cpu := e.statements.Load(), cpuNow()
			for b.Loop() {
				resp, err := e.post(ctx, body)
				if err != nil {
					b.Fatal(err)
				}
				if err := QuickCheck(resp); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			sqlPerOp := float64(e.statements.Load()-start) / float64(b.N)
			if name == Baseline {
				baseline = ns
			}
			b.ReportMetric(sqlPerOp, "sql/op")
			b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(1e9/ns, "req/s")
			b.ReportMetric(ns/baseline, "x_baseline")
			results[name] = [2]float64{ns, sqlPerOp}
		})
	}
	var sum strings.Builder
	fmt.Fprintf(&sum, "%s; deep cursor after row %d of %d:", e.label, e.fixture.DeepOffset, e.fixture.TotalCount)
	for _, name := range Names {
		if r, ok := results[name]; ok {
			fmt.Fprintf(&sum, "\n  %-20s %10.0f ns/op  %6.1f× baseline  %5.1f sql/op", name, r[0], r[0]/baseline, r[1])
		}
	}
	// Printed, not logged: go test shows a benchmark's log only with -v.
	fmt.Println(sum.String())
}

// measure returns the mean ns per request over n requests.
func measure(tb testing.TB, e *env, body []byte, n int) float64 {
	ctx := access.System(context.Background())
	start := time.Now()
	for range n {
		resp, err := e.post(ctx, body)
		if err != nil {
			tb.Fatal(err)
		}
		if err := QuickCheck(resp); err != nil {
			tb.Fatal(err)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// TestScenarios runs every scenario once on a small data set (300
// customers) and guards the SQL counts: a page of customers with their
// products and addresses costs the same number of statements whatever its
// size and depth (no N+1), and so does a customer with everything nested.
func TestScenarios(t *testing.T) {
	db, statements := testdb.Open(t)
	if err := demo.Load(access.System(context.Background()), db.Client, demo.Options{Customers: 300, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(db, statements)
	f, err := Prepare(access.System(context.Background()), e.post, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if f.TotalCount != 301 || f.DeepOffset != 200 || f.WalkedPages != 2 {
		t.Errorf("fixture: %d customers, deep cursor after row %d after %d pages; want 301, 200, 2",
			f.TotalCount, f.DeepOffset, f.WalkedPages)
	}
	// The benchmark's shortcut finds the same cursor.
	if g, err := deepFixture(access.System(context.Background()), e, 0.9); err != nil || g.DeepCursor != f.DeepCursor || g.DeepOffset != f.DeepOffset {
		t.Errorf("deepFixture = %+v, %v; the walk found %+v", g, err, f)
	}
	reqs := f.Requests()
	counts := map[string]int64{}
	for _, name := range Names {
		counts[name] = e.sqlOf(t, reqs[name])
		t.Logf("%-20s %d SQL statements", name, counts[name])
	}
	if counts[Baseline] != 0 {
		t.Errorf("baseline ran %d SQL statements, want 0", counts[Baseline])
	}
	if counts[FirstNoCount] != counts[FirstPage]-1 {
		t.Errorf("a page without totalCount and pageInfo ran %d SQL statements, want one (the COUNT) less than the first page's %d",
			counts[FirstNoCount], counts[FirstPage])
	}
	if counts[DeepPage] != counts[FirstPage] {
		t.Errorf("deep page ran %d SQL statements, first page %d: want the same", counts[DeepPage], counts[FirstPage])
	}
	for _, first := range []int{1, 5, 50, 100} {
		body := Request{Query: pageQuery, Variables: map[string]any{"first": first}}.Body()
		if n := e.sqlOf(t, body); n != counts[FirstPage] {
			t.Errorf("a page of %d customers ran %d SQL statements, a page of %d ran %d: N+1 queries?",
				first, n, PageSize, counts[FirstPage])
		}
	}
	// The nested lists of the page are really there.
	resp, _ := e.post(access.System(context.Background()), reqs[FirstPage])
	for _, want := range []string{`"products":{"edges":[{`, `"addresses":{"edges":[{`, `"totalCount":301`} {
		if !strings.Contains(string(resp), want) {
			t.Errorf("first page lacks %s", want)
		}
	}
	resp, _ = e.post(access.System(context.Background()), reqs[CustomerByID])
	for _, want := range []string{`"legalName":"Eveline Tripman"`, `"SPECIAL_TAX_NUMBER"`, `"username":"eveline.tripman"`, `"city":"Berlin"`} {
		if !strings.Contains(string(resp), want) {
			t.Errorf("customer by id lacks %s", want)
		}
	}
}

// --- the benchmark data set -------------------------------------------------

// dataKey identifies a data set: the schema, the generator and the size.
func dataKey(n int) string {
	h := sha256.New()
	fmt.Fprintf(h, "customers=%d\n", n)
	for _, f := range []string{"../ent/migrate/schema.go", "../internal/demo/demo.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			// Not run from the package directory: no reuse between runs.
			fmt.Fprintf(h, "%d", time.Now().UnixNano())
			continue
		}
		h.Write(bytes.Join(bytes.Fields(src), nil)) // gofmt does not change the key
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func openBenchDB() (*env, error) {
	ctx := access.System(context.Background())
	n := benchCustomers()
	key := dataKey(n)
	fresh := os.Getenv("BENCH_FRESH") == "1"
	var dsn, name string
	var err error
	if admin := os.Getenv(testdb.Env); admin != "" {
		name = "postgres"
		dsn, err = postgresData(admin, key, n, fresh)
	} else {
		name = "sqlite"
		dsn, err = sqliteData(key, n, fresh)
	}
	if err != nil {
		return nil, err
	}
	statements := new(atomic.Int64)
	db, err := store.Open(ctx, dsn, store.Options{
		Wrap: func(d dialect.Driver) dialect.Driver { return store.Counting(d, statements) },
	})
	if err != nil {
		return nil, err
	}
	// The query planner's statistics (store.Open gathers them on an empty
	// database; the seed may have come since): without them SQLite runs a
	// has…With filter (a correlated EXISTS) through the index of the inner
	// predicate instead of the foreign key's, minutes at 100,000 customers.
	if err := db.Optimize(ctx); err != nil {
		db.Close()
		return nil, err
	}
	e := newEnv(db, statements)
	if e.fixture, err = deepFixture(ctx, e, 0.9); err != nil {
		db.Close()
		return nil, err
	}
	e.label = fmt.Sprintf("%s, %d customers", name, e.fixture.TotalCount)
	return e, nil
}

// deepFixture finds the fixture without walking the list (which costs
// minutes at 100,000 rows on SQLite, see TestScenarios): the row at fraction
// of the list by SQL, its cursor through the API. TestScenarios checks that
// this cursor is the one a walk ends with.
func deepFixture(ctx context.Context, e *env, fraction float64) (*Fixture, error) {
	f, err := FindCustomer(ctx, e.post)
	if err != nil {
		return nil, err
	}
	f.DeepOffset = min(int(float64(f.TotalCount)*fraction), f.TotalCount-PageSize) / 100 * 100
	var id string
	if err := e.db.SQL.QueryRowContext(ctx, "SELECT id FROM customers ORDER BY created_at, id LIMIT 1 OFFSET "+
		strconv.Itoa(f.DeepOffset-1)).Scan(&id); err != nil {
		return nil, fmt.Errorf("finding row %d: %w", f.DeepOffset, err)
	}
	if f.DeepCursor, err = CursorOf(ctx, e.post, id); err != nil {
		return nil, err
	}
	return f, nil
}

// seed loads the demo data with n generated customers into dsn.
func seed(dsn, what string, n int) error {
	ctx := access.System(context.Background())
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := demo.Load(ctx, db.Client, demo.Options{Customers: n, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	fmt.Printf("%s: seeded %d customers in %v (kept for later runs)\n", what, n+1, time.Since(start).Round(time.Millisecond))
	switch db.Dialect {
	case dialect.SQLite:
		if _, err := db.SQL.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return err
		}
	case dialect.Postgres:
		// What autovacuum does soon after a bulk load in production; without
		// the visibility map, COUNT(*) cannot use an index-only scan.
		if _, err := db.SQL.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return err
		}
	}
	return nil
}

// sqliteData returns the path of the seeded SQLite file in os.TempDir(),
// seeding it when absent. Files of other keys are removed.
func sqliteData(key string, n int, fresh bool) (string, error) {
	dir := os.TempDir()
	path := filepath.Join(dir, "custgraph-bench-"+key+".db")
	old, _ := filepath.Glob(filepath.Join(dir, "custgraph-bench-*.db*"))
	for _, f := range old {
		if fresh || !strings.HasPrefix(f, path) {
			os.Remove(f)
		}
	}
	if _, err := os.Stat(path); err == nil {
		fmt.Printf("sqlite: reusing the data set %s\n", path)
		return path, nil
	}
	tmp := filepath.Join(dir, "custgraph-seeding-"+key+".db")
	for _, sfx := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + sfx)
	}
	if err := seed(tmp, "sqlite", n); err != nil {
		return "", err
	}
	for _, sfx := range []string{"-wal", "-shm"} { // empty after the checkpoint and close
		os.Remove(tmp + sfx)
	}
	return path, os.Rename(tmp, path)
}

const pgComplete = "custgraph bench data set, complete"

// postgresData returns the URL of the seeded PostgreSQL database
// custgraph_bench_<key>, seeding it when absent or incomplete. Databases of
// other keys are dropped.
func postgresData(admin, key string, n int, fresh bool) (string, error) {
	ctx := access.System(context.Background())
	if !store.IsPostgres(admin) {
		return "", fmt.Errorf("%s must be a postgres:// URL", testdb.Env)
	}
	conn, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	name := "custgraph_bench_" + key
	rows, err := conn.QueryContext(ctx,
		`SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname LIKE 'custgraph\_bench\_%'`)
	if err != nil {
		return "", err
	}
	ready := false
	var drop []string
	for rows.Next() {
		var db, comment string
		if err := rows.Scan(&db, &comment); err != nil {
			rows.Close()
			return "", err
		}
		if db == name && comment == pgComplete && !fresh {
			ready = true
		} else {
			drop = append(drop, db)
		}
	}
	rows.Close()
	for _, db := range drop {
		if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+db+`" WITH (FORCE)`); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	dsn := u.String()
	if ready {
		fmt.Printf("postgres: reusing the data set in database %s\n", name)
		return dsn, nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return "", err
	}
	if err := seed(dsn, "postgres", n); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, `COMMENT ON DATABASE "`+name+`" IS '`+pgComplete+`'`); err != nil {
		return "", err
	}
	return dsn, nil
}
