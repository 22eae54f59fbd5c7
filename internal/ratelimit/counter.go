package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
)

// dbTimeout bounds each statement of the database counter (a variable:
// a test holds a read longer).
var dbTimeout = time.Second

// createLock is the PostgreSQL advisory lock key that serialises the
// creation of the counter table by replicas starting at the same time
// (concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL).
const createLock = 0x72617465_6c696d // "ratelim"

// dbCounter is the table of counts shared by all replicas, one row per key
// and window; windows are stored as their start in Unix milliseconds.
// syncedCounter reads and writes it in batches.
type dbCounter struct {
	db           *sql.DB
	dialect      string
	get, cleanup string
}

// newDBCounter creates the counter table if it does not exist and returns a
// counter on it.
func newDBCounter(ctx context.Context, db *sql.DB, dial string) (*dbCounter, error) {
	c := &dbCounter{db: db, dialect: dial}
	switch dial {
	case dialect.Postgres:
		c.get = `SELECT window_start, count FROM rate_limit_counters WHERE key = $1 AND window_start IN ($2, $3)`
		c.cleanup = `DELETE FROM rate_limit_counters WHERE window_start < $1`
		if err := createPostgres(ctx, db); err != nil {
			return nil, fmt.Errorf("ratelimit: creating the counter table: %w", err)
		}
	case dialect.SQLite:
		c.get = `SELECT window_start, count FROM rate_limit_counters WHERE key = ? AND window_start IN (?, ?)`
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
