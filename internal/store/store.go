// Package store opens custgraph's database: an embedded SQLite file (pure
// Go, no cgo) by default, or PostgreSQL through pgx when the URL says so.
// It migrates the schema at start-up with the versioned migration files of
// ent/migrate/migrations (migrate.go) and translates database errors into
// client-facing ones.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"custgraph/ent"
	_ "custgraph/ent/runtime" // the schema's hooks and defaults
	"custgraph/internal/notify"
)

// DB is an open database: the ent driver and client on top of it.
type DB struct {
	Client *ent.Client
	Driver *entsql.Driver
	SQL    *sql.DB
	// Pool is the pgx pool under SQL on PostgreSQL (for its statistics);
	// nil on SQLite.
	Pool    *pgxpool.Pool
	Dialect string
	// Hub delivers the signals of committed changes (internal/notify): from
	// every replica on PostgreSQL, from this process on SQLite.
	Hub     *notify.Hub
	closeFn func()
	signals *signalDriver
	reads   *pgxReads // (PostgreSQL)
	log     *slog.Logger
}

// SetWriteTimeout bounds every transaction opened from now on (through the
// ent client: every change) to d; 0 lifts the bound. A transaction past it
// is rolled back and its statements fail with ErrWriteTimeout (TIMEOUT), so
// no write holds SQLite's write lock, or PostgreSQL's row locks, longer.
func (s *DB) SetWriteTimeout(d time.Duration) { s.signals.txTimeout.Store(int64(d)) }

// Options tune how the database is opened.
type Options struct {
	// Wrap, when set, wraps the driver (SQL logging or counting).
	Wrap func(dialect.Driver) dialect.Driver
	// MaxOpenConns caps the pool; 0 picks a default per dialect.
	MaxOpenConns int
	// Logger logs the migrations and the state of the PostgreSQL listening
	// connection; default slog.Default().
	Logger *slog.Logger
	// NoMigrate opens the database without migrating its schema (for
	// Migrate with DryRun, or a server told not to migrate).
	NoMigrate bool
}

// IsPostgres reports whether a database URL names PostgreSQL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLiteDSN turns a file path, a "sqlite:" URL or a "file:" URL into a
// modernc DSN with the pragmas custgraph relies on: foreign keys on, WAL,
// synchronous=FULL (an acknowledged write survives a crash), a busy timeout,
// immediate write transactions, SQLite's own time format and a LIKE that
// matches case (as PostgreSQL's). Parameters
// already present in a "file:" URL are kept.
func SQLiteDSN(dsn string) string {
	dsn = strings.TrimPrefix(dsn, "sqlite://")
	dsn = strings.TrimPrefix(dsn, "sqlite:")
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	// Each parameter is added unless the URL already sets it (by key).
	params := [][2]string{
		{"foreign_keys", "_pragma=foreign_keys(1)"},
		{"busy_timeout", "_pragma=busy_timeout(10000)"},
		{"_time_format", "_time_format=sqlite"},
		{"_txlock", "_txlock=immediate"},
		// LIKE matches case as PostgreSQL's does: the filters without
		// Fold (…Contains, …HasPrefix, …HasSuffix) ignored ASCII case on
		// SQLite only. The …Fold ones lower both sides.
		{"case_sensitive_like", "_pragma=case_sensitive_like(1)"},
	}
	if !strings.Contains(dsn, "mode=memory") {
		params = append(params, [2]string{"journal_mode", "_pragma=journal_mode(WAL)"},
			[2]string{"synchronous", "_pragma=synchronous(FULL)"})
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for _, p := range params {
		if !strings.Contains(dsn, p[0]) {
			dsn += sep + p[1]
			sep = "&"
		}
	}
	return dsn
}

// Open opens the database named by dsn and migrates its schema.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	var (
		db      *sql.DB
		dial    string
		pool    *pgxpool.Pool
		health  *connHealth
		closeFn func()
	)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if IsPostgres(dsn) {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("parsing the PostgreSQL URL: %w", redact(err))
		}
		u, _ := url.Parse(dsn)
		if u == nil || u.Query().Get("pool_max_conns") == "" {
			cfg.MaxConns = int32(max(8, 4*runtime.NumCPU()))
		}
		if opts.MaxOpenConns > 0 {
			cfg.MaxConns = int32(opts.MaxOpenConns)
		}
		cfg.MaxConnIdleTime = 5 * time.Minute
		// A cancelled request (its client went away, its time ran out)
		// cancels its statement with a cancel request and keeps the
		// connection, instead of closing it (pgx's default): a burst of
		// abandoned requests must not empty the pool.
		cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
		}
		cfg.HealthCheckPeriod = 30 * time.Second
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			preferTextNumeric(conn)
			return registerUUID(ctx, conn)
		}
		health = new(connHealth)
		cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return health.shouldPing(p.IdleDuration) }
		pool, err = pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("connecting to PostgreSQL: %w", redact(err))
		}
		db = stdlib.OpenDBFromPool(pool, stdlib.OptionShouldPing(func(_ context.Context, p stdlib.ShouldPingParams) bool {
			return health.shouldPing(p.IdleDuration)
		}))
		// ent's reads outside a transaction go to pgxpool directly
		// (pgxreads.go); database/sql carries the transactions, on at most
		// half of the pool's connections, so that a burst of writes
		// leaves the reads the other half. It keeps a few of them between
		// transactions (sqlIdleConns) instead of taking one from pgxpool
		// and giving it back for each (pgx's OpenDBFromPool keeps none
		// idle). The change listener takes a connection of its own
		// (notify.go), outside the pool's count.
		n := max(1, int(cfg.MaxConns)/2)
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(min(n, sqlIdleConns))
		db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
		dial = dialect.Postgres
		closeFn = pool.Close
	} else {
		var err error
		db, err = sql.Open("sqlite", SQLiteDSN(dsn))
		if err != nil {
			return nil, fmt.Errorf("opening SQLite: %w", err)
		}
		n := opts.MaxOpenConns
		if n == 0 {
			n = max(4, 2*runtime.NumCPU())
		}
		if strings.Contains(dsn, "mode=memory") && !strings.Contains(dsn, "cache=shared") {
			n = 1 // every connection to a private in-memory database is a new database
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		dial = dialect.SQLite
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if closeFn != nil {
			closeFn()
		}
		return nil, fmt.Errorf("reaching the database: %w", redact(err))
	}
	drv := entsql.OpenDB(dial, db)
	var d dialect.Driver = drv
	var reads *pgxReads
	if pool != nil {
		reads = &pgxReads{Driver: drv, pool: pool, health: health}
		d = reads
	}
	if opts.Wrap != nil {
		d = opts.Wrap(d)
	}
	hub := notify.NewHub(pool != nil)
	origin := newOrigin()
	sig := signals(d, hub, pool != nil, origin)
	d = sig
	s := &DB{Client: ent.NewClient(ent.Driver(d)), Driver: drv, SQL: db, Pool: pool, Dialect: dial, Hub: hub, closeFn: closeFn, signals: sig, reads: reads, log: opts.Logger}
	if !opts.NoMigrate {
		if _, err := s.Migrate(ctx, MigrateOptions{Logger: opts.Logger}); err != nil {
			s.Close()
			return nil, err
		}
	}
	if pool == nil {
		// SQLite's planner has statistics only when asked to gather them:
		// without them a filter through another table (hasProductsWith)
		// can read every customer for each one. Gathered now, after large
		// changes (Optimize), and every hour.
		if err := s.Optimize(ctx); err != nil {
			s.Close()
			return nil, err
		}
		octx, stop := context.WithCancel(context.WithoutCancel(ctx))
		go s.optimizeEvery(octx, time.Hour, opts.Logger)
		s.closeFn = stop
	}
	if pool != nil {
		lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		l := &listener{pool: pool, hub: hub, log: opts.Logger, origin: origin}
		if err := l.start(lctx); err != nil {
			stop()
			s.Close()
			return nil, fmt.Errorf("listening for changes: %w", redact(err))
		}
		s.closeFn = func() { stop(); closeFn() }
	}
	return s, nil
}

// sqlIdleConns is how many connections database/sql keeps idle between
// transactions on PostgreSQL: enough for a burst of writes; the others go
// back to pgxpool, where the reads take theirs.
const sqlIdleConns = 2

// migrateLock is the PostgreSQL advisory lock key that serialises schema
// migrations of replicas starting at the same time.
const migrateLock = 0x637573746772 // "custgr"

// Optimize refreshes SQLite's planner statistics where the tables changed
// much since they were gathered (PRAGMA optimize, reading at most 1,000
// rows of each index: milliseconds); PostgreSQL's autovacuum does that on
// its own. On PostgreSQL it compacts the customer counters instead, when a
// bulk load left them bloated (compactCounters). Call it after loading
// much data.
func (s *DB) Optimize(ctx context.Context) error {
	if s.Dialect == dialect.Postgres {
		s.compactCounters(ctx)
		return nil
	}
	if s.Dialect != dialect.SQLite {
		return nil
	}
	conn, err := s.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range []string{"PRAGMA analysis_limit = 1000", "PRAGMA optimize = 0x10002"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("gathering SQLite's statistics: %w", err)
		}
	}
	return nil
}

// compactLockWait bounds how long compactCounters waits for the counters'
// table: its lock holds up every customer write and unfiltered totalCount.
const compactLockWait = "2s"

// compactCounters rewrites customer_counts compactly on PostgreSQL when it
// holds many more pages than its rows fill. A bulk load's transaction
// updates a bank's counter rows once per statement and none of those
// versions can be pruned before it commits: 100,000 customers inserted one
// statement each leave 16 rows over 800 pages (the demo's bulk inserts,
// 1,000 a statement, about 100), which autovacuum frees without giving
// back, and which every unfiltered totalCount then reads (1.5 ms of the
// database's time, against 0.05 ms compacted). VACUUM FULL takes the table's
// exclusive lock: it runs only when the table is bloated (once after a
// bulk load, not at every start), waits at most compactLockWait for the
// lock, and a failure is logged, not fatal: the counts stay exact either
// way.
func (s *DB) compactCounters(ctx context.Context) {
	var pages, rows int64
	if err := s.SQL.QueryRowContext(ctx, `SELECT pg_relation_size('customer_counts') / current_setting('block_size')::int,
		(SELECT count(*) FROM customer_counts)`).Scan(&pages, &rows); err != nil {
		s.log.WarnContext(ctx, "sizing the customer counters failed", "err", redact(err))
		return
	}
	if pages <= 4+rows/50 { // (a page holds over 100 counter rows)
		return
	}
	conn, err := s.SQL.Conn(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "compacting the customer counters failed", "err", redact(err))
		return
	}
	defer conn.Close()
	// (session settings stay with the pooled connection: set, then reset)
	if _, err = conn.ExecContext(ctx, `SET lock_timeout = '`+compactLockWait+`'`); err == nil {
		_, err = conn.ExecContext(ctx, `VACUUM (FULL, ANALYZE) customer_counts`)
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `RESET lock_timeout`); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the connection rather than keep its setting
		}
	}
	if err != nil {
		s.log.WarnContext(ctx, "compacting the customer counters failed: an unfiltered totalCount reads their dead pages until they are compacted (VACUUM FULL customer_counts)",
			"pages", pages, "rows", rows, "err", redact(err))
		return
	}
	s.log.InfoContext(ctx, "customer counters compacted", "pages_before", pages, "rows", rows)
}

func (s *DB) optimizeEvery(ctx context.Context, d time.Duration, log *slog.Logger) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Optimize(ctx); err != nil && ctx.Err() == nil {
				log.Warn("gathering SQLite's statistics failed", "err", err)
			}
		}
	}
}

// Ping reports whether the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.SQL.PingContext(ctx) }

// Close closes the client and the pool.
func (s *DB) Close() error {
	err := s.Client.Close()
	if s.closeFn != nil {
		s.closeFn()
	}
	return err
}

// redact keeps passwords of connection strings out of error messages.
func redact(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "password="); i >= 0 {
		return errors.New(msg[:i] + "password=…")
	}
	return err
}
