package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"custgraph/internal/apperr"
	"custgraph/internal/store"
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
