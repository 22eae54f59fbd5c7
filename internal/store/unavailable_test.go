package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"custgraph/internal/apperr"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// TestUnreachable: the errors of a database that cannot be reached are
// UNAVAILABLE, with a summarised cause; those of a database that answered
// (a constraint, a syntax error), of the client leaving, network errors
// that did not come from the database's driver, or unknown ones are not.
func TestUnreachable(t *testing.T) {
	// A real connection refused: nothing listens on the port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	_, refused := pgconn.Connect(context.Background(), "postgres://nobody@"+addr+"/x?sslmode=disable&connect_timeout=5")
	require.Error(t, refused)

	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, tc := range []struct {
		name  string
		err   error
		cause string // "" when not an outage
	}{
		{"connection refused", refused, "connection refused"},
		{"connection reset", fmt.Errorf("query: %w", store.FromDriver(reset)), "connection reset"},
		{"server gone mid-answer", fmt.Errorf("loading: %w", store.FromDriver(io.ErrUnexpectedEOF)), "connection closed by the server"},
		// The same errors, not from the driver (a cursor that does not
		// decode, a body cut short): not the database's.
		{"EOF elsewhere", fmt.Errorf("decoding a cursor: %w", io.ErrUnexpectedEOF), ""},
		{"reset elsewhere", reset, ""},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, "the server is shutting down (57P01 admin_shutdown)"},
		{"starting up", &pgconn.PgError{Code: "57P03"}, "the server is starting or stopping (57P03 cannot_connect_now)"},
		{"too many connections", &pgconn.PgError{Code: "53300"}, "the server has no connection left (53300 too_many_connections)"},
		{"connection failure", &pgconn.PgError{Code: "08006"}, "connection failure (08006)"},
		{"closed connection", pgconn.ErrConnClosed, "connection closed"},
		{"unique violation", &pgconn.PgError{Code: "23505"}, ""},
		{"syntax error", &pgconn.PgError{Code: "42601"}, ""},
		{"client left", context.Canceled, ""},
		{"deadline", context.DeadlineExceeded, ""},
		{"a bug", errors.New("boom"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cause, ok := store.Unreachable(tc.err)
			require.Equal(t, tc.cause != "", ok, "%v", tc.err)
			require.Equal(t, tc.cause, cause)
			e := store.Classify(tc.err)
			if ok {
				require.Equal(t, apperr.Unavailable, e.Code)
				require.Equal(t, "the database is unavailable: retry later", e.Message)
			} else {
				require.NotEqual(t, apperr.Unavailable, e.Code)
			}
		})
	}
}

// TestConcurrencyFailureIsUnavailable: a transaction that PostgreSQL
// fails for another's sake (a deadlock, 40P01; a serialization failure,
// 40001) was rolled back through no fault of the request, and the same
// request sent again may well succeed: UNAVAILABLE (every door's 503 with
// Retry-After), not INTERNAL's 500. It is logged at warning level (an
// operator may want to know that writes deadlock) and is not an outage.
func TestConcurrencyFailureIsUnavailable(t *testing.T) {
	for _, code := range []string{"40P01", "40001"} {
		e := store.Classify(fmt.Errorf("updating: %w", &pgconn.PgError{Code: code}))
		require.Equal(t, apperr.Unavailable, e.Code, code)
		require.Equal(t, "the change met a concurrent one and was rolled back: retry it", e.Message, code)
		_, outage := store.Unreachable(&pgconn.PgError{Code: code})
		require.False(t, outage, code)
	}
	if testdb.Name() != "postgres" {
		return // SQLite runs one writer at a time: its busy lock is TestSQLiteBusyIsUnavailable
	}

	// A real deadlock: two transactions take two rows in opposite orders.
	db, _ := testdb.Open(t)
	ctx := context.Background()
	_, err := db.SQL.ExecContext(ctx, `CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int NOT NULL);
		INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)`)
	require.NoError(t, err)
	begin := func(first int) *sql.Tx {
		tx, err := db.SQL.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `SET LOCAL deadlock_timeout = '50ms'`)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `UPDATE deadlock_probe SET n = n + 1 WHERE id = $1`, first)
		require.NoError(t, err)
		return tx
	}
	a, b := begin(1), begin(2)
	errs := make(chan error, 2)
	for _, step := range []struct {
		tx  *sql.Tx
		row int
	}{{a, 2}, {b, 1}} {
		go func() {
			_, err := step.tx.ExecContext(ctx, `UPDATE deadlock_probe SET n = n + 1 WHERE id = $1`, step.row)
			if err != nil {
				_ = step.tx.Rollback()
			} else {
				err = step.tx.Commit()
			}
			errs <- err
		}()
	}
	var failed []error
	for range 2 {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	require.Len(t, failed, 1, "PostgreSQL fails one of the two: %v", failed)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, failed[0], &pgErr)
	require.Equal(t, "40P01", pgErr.Code)

	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	octx, o := store.WithOutage(ctx)
	e := store.Report(octx, log, fmt.Errorf("mutation: %w", failed[0]), "graphql mutation transaction failed")
	require.Equal(t, apperr.Unavailable, e.Code)
	require.Contains(t, logged.String(), "level=WARN")
	require.Contains(t, logged.String(), "cause=\"deadlock detected (40P01)\"")
	require.Empty(t, o.Cause(), "not an outage")
}

// TestSQLiteFullIsUnavailable: a write that meets a full disk (here the
// file's page limit, which SQLite reports alike: SQLITE_FULL) is an outage,
// 503 with Retry-After in every door, not a 500 per request, each with an
// error line: the operator frees space and the writes go on.
func TestSQLiteFullIsUnavailable(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/full.db")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1) // (the pragma is the connection's)
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `CREATE TABLE filler (b blob)`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `PRAGMA max_page_count = 8`)
	require.NoError(t, err)
	for i := 0; i < 100 && err == nil; i++ {
		_, err = db.ExecContext(ctx, `INSERT INTO filler VALUES (zeroblob(4096))`)
	}
	require.Error(t, err, "the file never filled")
	cause, ok := store.Unreachable(fmt.Errorf("creating a customer: %w", err))
	require.True(t, ok, "%v", err)
	require.Equal(t, "the disk is full (SQLITE_FULL)", cause)
	require.Equal(t, apperr.Unavailable, store.Classify(err).Code)
}
