// Command custgraph serves a bank's customer data over GraphQL (with
// GraphiQL) and, from the REST compatibility issue on, over REST.
//
//	go run . --demo                 # embedded SQLite file custgraph.db, demo data, http://127.0.0.1:8080/
//	DATABASE_URL=postgres://… go run .
//	go run . demo --customers 5000  # load the demo data and exit
//	go run . schema                 # print the GraphQL schema (SDL), as GET /schema.graphql serves it
//	go run . migrate [--dry-run]    # migrate the database's schema and exit
//
// Every flag can also be set by the environment variable named in its help.
package main

//go:generate go run ./ent/entc.go
//go:generate go run ./graph/gqlgen.go
//go:generate go run ./ent/migrate/main.go

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"entgo.io/ent/dialect"

	"custgraph/graph"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/changes"
	"custgraph/internal/demo"
	"custgraph/internal/gcpolicy"
	"custgraph/internal/observe"
	"custgraph/internal/ratelimit"
	"custgraph/internal/server"
	"custgraph/internal/store"
)

type config struct {
	addr            string
	publicURL       string
	databaseURL     string
	logLevel        string
	logFormat       string
	corsOrigins     string
	requestTimeout  time.Duration
	writeTimeout    time.Duration
	shutdownTimeout time.Duration
	drainDelay      time.Duration
	maxBodyBytes    int64
	limits          graph.Limits
	apqCacheSize    int
	demo            bool
	demoCustomers   int
	jwtIssuer       string
	jwtAudience     string
	tokenTTL        time.Duration
	jwtKeyFiles     string
	oidcIssuer      string
	oidcAudience    string
	oidcJWKSURL     string
	rateLimit       int
	maxConcurrent   int
	maxRunning      int
	liveNodeReads   int
	maxPerCaller    int
	rateWindow      time.Duration
	rateSync        time.Duration
	rateStore       string
	trustProxy      bool
	firehose        bool
	autoMigrate     bool
	dryRun          bool
}

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	cfg, err := parseFlags(cmd, args)
	if err != nil {
		os.Exit(2)
	}
	log := newLogger(cfg)
	// What logs without being handed the logger (the rate limiter's
	// warnings, a store's listener) writes in the same format and level.
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		err = serve(ctx, stop, cfg, log)
	case "demo":
		err = loadDemo(ctx, cfg, log)
	case "admin":
		err = runAdmin(ctx, cfg, fsArgs(args))
	case "schema":
		// The SDL that GET /schema.graphql serves, for code generators.
		_, err = os.Stdout.WriteString(graph.SDL())
	case "migrate":
		err = runMigrate(ctx, cfg, log)
	default:
		err = fmt.Errorf("unknown command %q (commands: serve, demo, admin, schema, migrate)", cmd)
	}
	if err != nil {
		if cmd == "admin" { // a command line tool: its errors are for a person
			fmt.Fprintln(os.Stderr, "custgraph admin:", err)
			os.Exit(1)
		}
		log.Error("custgraph stopped", "err", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// envReader reads the settings given as environment variables, which
// stand for the flags' defaults, and keeps what it could not read: a
// variable set to something its flag would refuse stops the start-up, as
// the flag does. It used to fall back on the default without a word
// (CUSTGRAPH_SHUTDOWN_TIMEOUT=60, without its unit, was 20 s).
//
// An empty variable counts as not set (compose files write VAR=${X:-}), and
// a flag given on the command line wins over its variable, unreadable or
// not.
type envReader struct {
	errs map[string]error // by flag name
}

func (e *envReader) fail(flagName, key, v, want string) {
	if e.errs == nil {
		e.errs = map[string]error{}
	}
	e.errs[flagName] = fmt.Errorf("%s=%q: want %s", key, v, want)
}

// lookup is the variable's value, "" when it is not set or empty.
func lookup(key string) string { return strings.TrimSpace(os.Getenv(key)) }

// errors are the variables that could not be read, but for the flags set
// on the command line, in the flags' order.
func (e *envReader) errors(fs *flag.FlagSet) []error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if err := e.errs[f.Name]; err != nil && !set[f.Name] {
			errs = append(errs, err)
		}
	})
	return errs
}

func (e *envReader) int(flagName, key string, def int) int {
	v := lookup(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(flagName, key, v, "an integer")
		return def
	}
	return n
}

func (e *envReader) duration(flagName, key string, def time.Duration) time.Duration {
	v := lookup(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(flagName, key, v, "a duration with its unit, such as 30s or 2m")
		return def
	}
	return d
}

func (e *envReader) bool(flagName, key string, def bool) bool {
	v := lookup(key)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(flagName, key, v, "true or false (or 1 or 0)")
		return def
	}
	return b
}

func parseFlags(cmd string, args []string) (config, error) {
	var c config
	var e envReader
	fs := flag.NewFlagSet("custgraph "+cmd, flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", env("CUSTGRAPH_ADDR", "127.0.0.1:8080"), "listen address (CUSTGRAPH_ADDR)")
	fs.StringVar(&c.publicURL, "public-url", env("CUSTGRAPH_PUBLIC_URL", ""),
		"the URL clients reach custgraph at, for the OAuth discovery documents and the OpenAPI document's server (CUSTGRAPH_PUBLIC_URL; default: http:// and --addr, localhost for a wildcard host, and \"/\" in the OpenAPI document)")
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", "custgraph.db"),
		"SQLite file path or file: URL, or postgres://… (DATABASE_URL)")
	fs.StringVar(&c.logLevel, "log-level", env("CUSTGRAPH_LOG_LEVEL", "info"), "debug, info, warn or error (CUSTGRAPH_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("CUSTGRAPH_LOG_FORMAT", "text"), "text or json (CUSTGRAPH_LOG_FORMAT)")
	fs.StringVar(&c.corsOrigins, "cors-origins", env("CUSTGRAPH_CORS_ORIGINS", ""),
		"comma-separated origins allowed to call the API from browsers (CUSTGRAPH_CORS_ORIGINS)")
	fs.DurationVar(&c.writeTimeout, "write-timeout", e.duration("write-timeout", "CUSTGRAPH_WRITE_TIMEOUT", 5*time.Second),
		"longest life of a write transaction (SQLite's write lock); 0: none (CUSTGRAPH_WRITE_TIMEOUT)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", e.duration("request-timeout", "CUSTGRAPH_REQUEST_TIMEOUT", 30*time.Second),
		"per-request time limit (CUSTGRAPH_REQUEST_TIMEOUT)")
	// The defaults add up to 25s, within the 30s Kubernetes gives a pod
	// between SIGTERM and SIGKILL (terminationGracePeriodSeconds).
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", e.duration("shutdown-timeout", "CUSTGRAPH_SHUTDOWN_TIMEOUT", 20*time.Second),
		"after the drain, how long in-flight requests may finish (CUSTGRAPH_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.drainDelay, "drain-delay", e.duration("drain-delay", "CUSTGRAPH_DRAIN_DELAY", 5*time.Second),
		"after SIGTERM, how long to keep serving with /readyz at 503 and Connection: close on every answer, before shutting down (CUSTGRAPH_DRAIN_DELAY)")
	fs.Int64Var(&c.maxBodyBytes, "max-body-bytes", int64(e.int("max-body-bytes", "CUSTGRAPH_MAX_BODY_BYTES", 1<<20)),
		"largest GraphQL request body (CUSTGRAPH_MAX_BODY_BYTES)")
	// The limits of one GraphQL request (graph.Limits; README, "Limits and the cost model").
	d := graph.DefaultLimits
	fs.IntVar(&c.limits.MaxTokens, "max-tokens", e.int("max-tokens", "CUSTGRAPH_MAX_TOKENS", d.MaxTokens),
		"lexical tokens of a GraphQL document, counted before it is parsed (CUSTGRAPH_MAX_TOKENS)")
	fs.IntVar(&c.limits.MaxFields, "max-fields", e.int("max-fields", "CUSTGRAPH_MAX_FIELDS", d.MaxFields),
		"fields of a GraphQL document, fragments expanded, counted before validation (CUSTGRAPH_MAX_FIELDS)")
	fs.IntVar(&c.limits.MaxRepeats, "max-repeats", e.int("max-repeats", "CUSTGRAPH_MAX_REPEATS", d.MaxRepeats),
		"fields answering under one response key, counted before validation (CUSTGRAPH_MAX_REPEATS)")
	fs.IntVar(&c.limits.MaxVariableCost, "max-variable-cost", e.int("max-variable-cost", "CUSTGRAPH_MAX_VARIABLE_COST", d.MaxVariableCost),
		"GraphQL variables, counted before coercion: each value 1, each input object its type's declared fields (CUSTGRAPH_MAX_VARIABLE_COST)")
	fs.IntVar(&c.limits.MaxDepth, "max-depth", e.int("max-depth", "CUSTGRAPH_MAX_DEPTH", d.MaxDepth), "deepest field nesting (CUSTGRAPH_MAX_DEPTH)")
	fs.IntVar(&c.limits.MaxAliases, "max-aliases", e.int("max-aliases", "CUSTGRAPH_MAX_ALIASES", d.MaxAliases), "aliases per operation (CUSTGRAPH_MAX_ALIASES)")
	fs.IntVar(&c.limits.MaxComplexity, "max-complexity", e.int("max-complexity", "CUSTGRAPH_MAX_COMPLEXITY", d.MaxComplexity),
		"operation complexity: fields weighted by page sizes (CUSTGRAPH_MAX_COMPLEXITY)")
	fs.IntVar(&c.limits.MaxFilterDepth, "max-filter-depth", e.int("max-filter-depth", "CUSTGRAPH_MAX_FILTER_DEPTH", d.MaxFilterDepth),
		"nesting of and/or/not/has…With in one where (CUSTGRAPH_MAX_FILTER_DEPTH)")
	fs.IntVar(&c.limits.MaxFilterCost, "max-filter-cost", e.int("max-filter-cost", "CUSTGRAPH_MAX_FILTER_COST", d.MaxFilterCost),
		"cost of an operation's filters and orderings (CUSTGRAPH_MAX_FILTER_COST)")
	fs.IntVar(&c.apqCacheSize, "apq-cache-size", e.int("apq-cache-size", "CUSTGRAPH_APQ_CACHE_SIZE", 1000),
		"automatic persisted queries kept in memory (CUSTGRAPH_APQ_CACHE_SIZE)")
	fs.BoolVar(&c.demo, "demo", e.bool("demo", "CUSTGRAPH_DEMO", false), "load the demo data at start-up if absent (CUSTGRAPH_DEMO=true)")
	fs.IntVar(&c.demoCustomers, "customers", e.int("customers", "CUSTGRAPH_DEMO_CUSTOMERS", 3000),
		"generated demo customers (CUSTGRAPH_DEMO_CUSTOMERS)")
	fs.StringVar(&c.jwtIssuer, "jwt-issuer", env("CUSTGRAPH_JWT_ISSUER", "custgraph"),
		"iss of the access tokens custgraph issues (CUSTGRAPH_JWT_ISSUER)")
	fs.StringVar(&c.jwtAudience, "jwt-audience", env("CUSTGRAPH_JWT_AUDIENCE", "custgraph"),
		"aud of the access tokens custgraph issues and accepts (CUSTGRAPH_JWT_AUDIENCE)")
	fs.DurationVar(&c.tokenTTL, "token-ttl", e.duration("token-ttl", "CUSTGRAPH_TOKEN_TTL", 15*time.Minute),
		"lifetime of issued access tokens (CUSTGRAPH_TOKEN_TTL)")
	fs.StringVar(&c.jwtKeyFiles, "jwt-key-files", env("CUSTGRAPH_JWT_KEY_FILES", ""),
		"comma-separated PEM private keys; the first signs, all verify (CUSTGRAPH_JWT_KEY_FILES; empty: a key kept in the database)")
	fs.StringVar(&c.oidcIssuer, "oidc-issuer", env("CUSTGRAPH_OIDC_ISSUER", ""),
		"issuer of an external OpenID Connect provider whose tokens are accepted too (CUSTGRAPH_OIDC_ISSUER)")
	fs.StringVar(&c.oidcAudience, "oidc-audience", env("CUSTGRAPH_OIDC_AUDIENCE", ""),
		"audience the external provider's tokens must carry (CUSTGRAPH_OIDC_AUDIENCE)")
	fs.StringVar(&c.oidcJWKSURL, "oidc-jwks-url", env("CUSTGRAPH_OIDC_JWKS_URL", ""),
		"the external provider's JWKS URL (CUSTGRAPH_OIDC_JWKS_URL)")
	fs.IntVar(&c.rateLimit, "rate-limit", e.int("rate-limit", "CUSTGRAPH_RATE_LIMIT", 1200),
		"requests per caller per --rate-window; 0 disables (CUSTGRAPH_RATE_LIMIT)")
	fs.DurationVar(&c.rateWindow, "rate-window", e.duration("rate-window", "CUSTGRAPH_RATE_WINDOW", time.Minute),
		"rate-limit window (CUSTGRAPH_RATE_WINDOW)")
	fs.DurationVar(&c.rateSync, "rate-limit-sync", e.duration("rate-limit-sync", "CUSTGRAPH_RATE_LIMIT_SYNC", ratelimit.DefaultSync),
		"with the database store, how often each replica adds its counts to the shared table and reads the others' (CUSTGRAPH_RATE_LIMIT_SYNC)")
	fs.IntVar(&c.maxPerCaller, "max-concurrent-per-caller", e.int("max-concurrent-per-caller", "CUSTGRAPH_MAX_CONCURRENT_PER_CALLER", 8),
		"requests one caller may have in flight on this replica; 0 disables (CUSTGRAPH_MAX_CONCURRENT_PER_CALLER)")
	fs.IntVar(&c.maxConcurrent, "max-concurrent", e.int("max-concurrent", "CUSTGRAPH_MAX_CONCURRENT", 256),
		"requests in flight on this replica; 0 disables (CUSTGRAPH_MAX_CONCURRENT)")
	fs.IntVar(&c.maxRunning, "max-running", e.int("max-running", "CUSTGRAPH_MAX_RUNNING", max(16, 8*runtime.GOMAXPROCS(0))),
		"requests executing at once on this replica (the others wait their turn); 0 disables (CUSTGRAPH_MAX_RUNNING)")
	fs.IntVar(&c.liveNodeReads, "live-node-reads", e.int("live-node-reads", "CUSTGRAPH_LIVE_NODE_READS", 50),
		"changes a caller's subscriptions deliver with their node selected, per second on this replica, in bursts of twice as many; 0: 50 (CUSTGRAPH_LIVE_NODE_READS)")
	fs.StringVar(&c.rateStore, "rate-limit-store", env("CUSTGRAPH_RATE_LIMIT_STORE", "auto"),
		"where request counts live: database (shared by replicas), memory (per replica) or auto: database on PostgreSQL, memory on SQLite (CUSTGRAPH_RATE_LIMIT_STORE)")
	fs.BoolVar(&c.trustProxy, "trust-proxy-headers", e.bool("trust-proxy-headers", "CUSTGRAPH_TRUST_PROXY_HEADERS", false),
		"take the client IP from X-Forwarded-For/X-Real-IP: only behind a proxy that sets them (CUSTGRAPH_TRUST_PROXY_HEADERS=true)")
	fs.BoolVar(&c.firehose, "customer-firehose", e.bool("customer-firehose", "CUSTGRAPH_CUSTOMER_FIREHOSE", true),
		"serve OBP's customer firehose route; false answers OBP-00012 (CUSTGRAPH_CUSTOMER_FIREHOSE)")
	fs.BoolVar(&c.autoMigrate, "auto-migrate", e.bool("auto-migrate", "CUSTGRAPH_AUTO_MIGRATE", true),
		"migrate the schema at start-up; false: refuse to start while a migration is pending, for `custgraph migrate` to apply (CUSTGRAPH_AUTO_MIGRATE)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "migrate: print what would be done, do nothing")
	rest := args
	if cmd == "admin" {
		// Flags end at the admin command's name (custgraph admin grant --role …).
		rest = flagsBeforeCommand(args)
	}
	if err := fs.Parse(rest); err != nil {
		return c, err
	}
	if err := errors.Join(append(e.errors(fs), c.check(fs)...)...); err != nil {
		fmt.Fprintln(fs.Output(), "custgraph:", strings.ReplaceAll(err.Error(), "\n", "\ncustgraph: "))
		return c, err
	}
	return c, nil
}

// check refuses settings no server can run with: an unknown log level or
// format (they fell back on info and text), and a negative duration, size
// or count.
func (c *config) check(fs *flag.FlagSet) []error {
	var errs []error
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("log level %q: want debug, info, warn or error", c.logLevel))
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		errs = append(errs, fmt.Errorf("log format %q: want text or json", c.logFormat))
	}
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		negative := false
		switch v := g.Get().(type) {
		case int:
			negative = v < 0
		case int64:
			negative = v < 0
		case time.Duration:
			negative = v < 0
		}
		if negative {
			errs = append(errs, fmt.Errorf("--%s %s: must not be negative", f.Name, f.Value))
		}
	})
	return errs
}

// flagsBeforeCommand returns the leading flags of args (up to the first
// word that is not a flag or a flag's value); fsArgs returns the rest.
func flagsBeforeCommand(args []string) []string { return args[:len(args)-len(fsArgs(args))] }

func fsArgs(args []string) []string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return args[i:]
		}
		if !strings.Contains(a, "=") && i+1 < len(args) && !isBoolFlag(a) {
			i++ // the flag's value
		}
	}
	return nil
}

func isBoolFlag(a string) bool {
	n := strings.TrimLeft(a, "-")
	return n == "demo" || n == "trust-proxy-headers"
}

func runAdmin(ctx context.Context, c config, args []string) error {
	db, err := open(ctx, c, new(atomic.Int64))
	if err != nil {
		return err
	}
	defer db.Close()
	return admin.Run(ctx, db.Client, args, os.Stdin, os.Stdout)
}

func newLogger(c config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	return observe.Logger(slog.New(h)) // a request's lines carry its trace, caller and operation
}

func open(ctx context.Context, c config, statements *atomic.Int64) (*store.DB, error) {
	db, err := store.Open(ctx, c.databaseURL, store.Options{
		Wrap:      func(d dialect.Driver) dialect.Driver { return store.Counting(d, statements) },
		NoMigrate: !c.autoMigrate,
	})
	if err != nil || c.autoMigrate {
		return db, err
	}
	m, err := db.Migrate(ctx, store.MigrateOptions{DryRun: true})
	if err == nil && (m.Baseline != "" || len(m.Files) > 0) {
		err = errors.New("the database's schema needs migrating and --auto-migrate is false: run `custgraph migrate` first")
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// runMigrate applies the pending migration files and exits, or with
// --dry-run prints them (their SQL) and applies nothing.
func runMigrate(ctx context.Context, c config, log *slog.Logger) error {
	db, err := store.Open(ctx, c.databaseURL, store.Options{NoMigrate: true, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := db.Migrate(ctx, store.MigrateOptions{DryRun: c.dryRun, Logger: log})
	if err != nil {
		return err
	}
	verb, adopt := "applied", "adopted"
	if c.dryRun {
		verb, adopt = "pending", "to adopt"
	}
	if m.Baseline != "" {
		fmt.Printf("-- %s: a database made before versioned migrations; version %s recorded as its baseline\n", adopt, m.Baseline)
	}
	for _, f := range m.Files {
		fmt.Printf("-- %s: %s\n", verb, f.Name)
		if c.dryRun {
			for _, stmt := range f.Statements {
				fmt.Println(stmt)
			}
		}
	}
	if len(m.Files) == 0 {
		fmt.Println("-- the schema is current: no migration pending")
	}
	return nil
}

func loadDemo(ctx context.Context, c config, log *slog.Logger) error {
	db, err := open(ctx, c, new(atomic.Int64))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := demo.Load(ctx, db.Client, demo.Options{Customers: c.demoCustomers, Logger: log}); err != nil {
		return err
	}
	return db.Optimize(ctx)
}

func authConfig(c config, log *slog.Logger) authn.Config {
	cfg := authn.Config{Issuer: c.jwtIssuer, Audience: c.jwtAudience, TokenTTL: c.tokenTTL, Logger: log,
		PublicURL: publicURL(c), CheckTimeout: c.requestTimeout}
	for _, f := range strings.Split(c.jwtKeyFiles, ",") {
		if f = strings.TrimSpace(f); f != "" {
			cfg.KeyFiles = append(cfg.KeyFiles, f)
		}
	}
	if c.oidcIssuer != "" {
		cfg.External = &authn.External{Issuer: c.oidcIssuer, Audience: c.oidcAudience, JWKSURL: c.oidcJWKSURL}
	}
	return cfg
}

// publicURL is --public-url or, by default, http:// and the listen address,
// with localhost for a wildcard host (":8080", "0.0.0.0:8080", "[::]:8080").
func publicURL(c config) string {
	if c.publicURL != "" {
		return c.publicURL
	}
	host, port, err := net.SplitHostPort(c.addr)
	if err != nil {
		return "http://" + c.addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func serve(ctx context.Context, stop context.CancelFunc, c config, log *slog.Logger) error {
	memLimit, memLimitFrom := gcpolicy.Limit(log) // README, "Memory and the garbage collector"
	// The address first: a port in use stops the start-up before the
	// migrations, the demo data and the administrator's bootstrap, whose
	// one-time secret was printed by a run that then failed to listen. The
	// port is tried and let go: held from here, it would take connections
	// (and a TCP readiness probe) into its backlog long before they are
	// served; they are refused until then, and clients go elsewhere.
	if probe, err := net.Listen("tcp", c.addr); err != nil {
		return err
	} else if err := probe.Close(); err != nil {
		return err
	}
	// Tracing, when the OTEL_* environment asks for it (README, "Observability").
	tracing, err := observe.TracingFromEnv(ctx)
	if err != nil {
		return err
	}
	if tracing != nil {
		tracing.Install(log)
		log.Info("tracing on", "exporters", strings.Join(tracing.Exporters, ","))
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tracing.Shutdown(sctx); err != nil {
				log.Warn("tracing: flushing the last spans failed", "err", err)
			}
		}()
	}
	statements := new(atomic.Int64)
	db, err := open(ctx, c, statements)
	if err != nil {
		return err
	}
	defer db.Close()
	if c.demo {
		if err := demo.Load(ctx, db.Client, demo.Options{Customers: c.demoCustomers, Logger: log}); err != nil {
			return fmt.Errorf("loading demo data: %w", err)
		}
		if err := db.Optimize(ctx); err != nil {
			return err
		}
	}
	if err := admin.Bootstrap(ctx, db.Client, db.Dialect, os.Stdout, log); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	// From here on, every change is a request's: none may hold the write
	// lock for long (the demo data above is loaded without the bound).
	db.SetWriteTimeout(c.writeTimeout)
	authCfg := authConfig(c, log)
	authCfg.Hub = db.Hub
	auth, err := authn.New(ctx, db.Client, authCfg)
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}
	counts := c.rateStore
	if counts == "auto" {
		counts = "memory"
		if db.Dialect == dialect.Postgres {
			counts = "database"
		}
	}
	rate, err := ratelimit.New(db, ratelimit.Config{Requests: c.rateLimit, Window: c.rateWindow, Store: counts, Sync: c.rateSync})
	if err != nil {
		return fmt.Errorf("rate limiting: %w", err)
	}
	concurrency := ratelimit.Concurrency(ratelimit.ConcurrencyConfig{PerCaller: c.maxPerCaller, Total: c.maxConcurrent, Running: c.maxRunning,
		Exempt: graph.IsLive}) // subscriptions are bounded per caller by graph.Live
	limit := func(h http.Handler) http.Handler { return rate(concurrency(h)) }
	draining := new(atomic.Bool)
	var origins []string
	for _, o := range strings.Split(c.corsOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	// The change stream's poller for live subscriptions (README, "Live changes").
	// It runs until the drain is over, not until the signal: its end ends
	// the subscriptions, which are told to connect again (graph.Live).
	broker := changes.NewBroker(db.Client, db.Hub, changes.BrokerOptions{Logger: log})
	bctx, stopBroker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBroker()
	go broker.Run(bctx)
	liveConns := new(sync.WaitGroup) // WebSocket connections, which Shutdown does not wait for
	h := server.New(db, statements, server.Config{
		GraphQL: graph.Options{
			Limits:       c.limits,
			MaxBodyBytes: c.maxBodyBytes,
			APQCacheSize: c.apqCacheSize,
		},
		RequestTimeout:    c.requestTimeout,
		CORSOrigins:       origins,
		Logger:            log,
		Draining:          draining,
		Auth:              auth,
		RateLimit:         limit,
		TrustProxyHeaders: c.trustProxy,
		CustomerFirehose:  c.firehose,
		// Only a configured URL: the OpenAPI document's server is
		// otherwise "/", where the client fetched it, not the listen address.
		PublicURL: c.publicURL,
		Tracing:   tracing,
		Changes:   broker,
		LiveConns: liveConns,

		LiveNodeReadsPerSecond: float64(c.liveNodeReads),
	})
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       c.requestTimeout + 5*time.Second,
		WriteTimeout:      c.requestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	gc := gcpolicy.Serving(memLimit, memLimitFrom)
	log.Info("custgraph listening", append([]any{"addr", "http://" + ln.Addr().String() + "/", "graphql", "/query",
		"database", db.Dialect}, gc.LogAttrs()...)...)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal now ends the process at once
	// Drain: keep serving, with /readyz at 503 so that load balancers stop
	// routing here, and "Connection: close" on every answer so that clients
	// leave their keep-alive connections one answer at a time. Only then
	// does Shutdown close the listener and the connections still idle:
	// closing an idle connection at the instant a client writes a request
	// on it resets that request, which is what an immediate Shutdown did to
	// requests arriving with the signal.
	draining.Store(true)
	if c.drainDelay > 0 {
		log.Info("draining: still serving, /readyz answers 503, every answer closes its connection", "delay", c.drainDelay)
		time.Sleep(c.drainDelay)
	}
	// Subscriptions end now, told to connect again elsewhere (a WebSocket
	// gets close code 1012, a stream of events is cut without "complete");
	// ended at the signal, they completed, and clients did not come back.
	stopBroker()
	log.Info("shutting down: draining in-flight requests", "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close() // stop the abandoned requests before the database closes
		return fmt.Errorf("shutdown: %w", err)
	}
	// The WebSocket connections were told to connect again when the
	// stream stopped (1012); their handlers end as the close is written.
	if err := waitFor(sctx, liveConns); err != nil {
		// (One that never sent connection_init, or whose client reads
		// nothing, may outlast the timeout: it is cut as the process ends,
		// as every WebSocket was before they were waited for.)
		log.Warn("shutting down: WebSocket connections still open at the end of the shutdown timeout are cut", "err", err)
	}
	log.Info("stopped cleanly")
	return nil
}

// waitFor waits for wg, or until ctx ends.
func waitFor(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
