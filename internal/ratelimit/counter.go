package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/go-chi/httprate"
)

// dbTimeout bounds each statement of the database counter.
const dbTimeout = time.Second

// createLock is the PostgreSQL advisory lock key that serialises the
// creation of the counter table by replicas starting at the same time
// (concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL).
const createLock = 0x72617465_6c696d // "ratelim"

// dbCounter is an httprate.LimitCounter on a table shared by all replicas.
// Windows are stored as their start in Unix milliseconds.
type dbCounter struct {
	db                   *sql.DB
	get, upsert, cleanup string
	window               time.Duration
	lastCleanup          atomic.Int64 // start (Unix ms) of the window the last cleanup ran in
	warn                 func(op string, err error)
}

var _ httprate.LimitCounter = (*dbCounter)(nil)

// newDBCounter creates the counter table if it does not exist and returns a
// counter on it.
func newDBCounter(ctx context.Context, db *sql.DB, dial string) (*dbCounter, error) {
	c := &dbCounter{db: db, warn: func(string, error) {}}
	switch dial {
	case dialect.Postgres:
		c.get = `SELECT window_start, count FROM rate_limit_counters WHERE key = $1 AND window_start IN ($2, $3)`
		c.upsert = `INSERT INTO rate_limit_counters (key, window_start, count) VALUES ($1, $2, $3)
ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + excluded.count`
		c.cleanup = `DELETE FROM rate_limit_counters WHERE window_start < $1`
		if err := createPostgres(ctx, db); err != nil {
			return nil, fmt.Errorf("ratelimit: creating the counter table: %w", err)
		}
	case dialect.SQLite:
		c.get = `SELECT window_start, count FROM rate_limit_counters WHERE key = ? AND window_start IN (?, ?)`
		c.upsert = `INSERT INTO rate_limit_counters (key, window_start, count) VALUES (?, ?, ?)
ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + excluded.count`
		c.cleanup = `DELETE FROM rate_limit_counters WHERE window_start < ?`
		if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS rate_limit_counters (
	key text NOT NULL,
	window_start bigint NOT NULL,
	count integer NOT NULL,
	PRIMARY KEY (key, window_start)
) WITHOUT ROWID`); err != nil {
			return nil, fmt.Errorf("ratelimit: creating the counter table: %w", err)
		}
	default:
		return nil, fmt.Errorf("ratelimit: unsupported database dialect %q", dial)
	}
	return c, nil
}

// createPostgres creates the table UNLOGGED: see the package comment.
func createPostgres(ctx context.Context, db *sql.DB) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, createLock); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE UNLOGGED TABLE IF NOT EXISTS rate_limit_counters (
	key text NOT NULL,
	window_start bigint NOT NULL,
	count integer NOT NULL,
	PRIMARY KEY (key, window_start)
)`); err != nil {
		return err
	}
	return tx.Commit()
}

// Config is called by httprate with the limiter's settings.
func (c *dbCounter) Config(_ int, window time.Duration) { c.window = window }

func (c *dbCounter) Increment(key string, current time.Time) error {
	return c.IncrementBy(key, current, 1)
}

// IncrementBy adds amount to the key's count in the current window, in one
// upsert, then deletes old windows if this process has not yet done so in
// this window.
func (c *dbCounter) IncrementBy(key string, current time.Time, amount int) error {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	start := current.UnixMilli()
	if _, err := c.db.ExecContext(ctx, c.upsert, key, start, amount); err != nil {
		return err
	}
	if last := c.lastCleanup.Load(); start > last && c.lastCleanup.CompareAndSwap(last, start) {
		// Keep the current and the previous window; Get reads no others.
		if _, err := c.db.ExecContext(ctx, c.cleanup, current.Add(-c.window).UnixMilli()); err != nil {
			c.warn("deleting old windows", err)
		}
	}
	return nil
}

// Get returns the key's counts in the current and the previous window, in
// one query.
func (c *dbCounter) Get(key string, current, previous time.Time) (curr, prev int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	cs, ps := current.UnixMilli(), previous.UnixMilli()
	rows, err := c.db.QueryContext(ctx, c.get, key, cs, ps)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var start int64
		var n int
		if err := rows.Scan(&start, &n); err != nil {
			return 0, 0, err
		}
		switch start {
		case cs:
			curr = n
		case ps:
			prev = n
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	return curr, prev, nil
}
