package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/internal/testdb"
)

// TestCancelledStatementKeepsItsConnection: on PostgreSQL a statement whose
// context ends is cancelled on the server, and its connection goes back to
// the pool instead of being closed.
func TestCancelledStatementKeepsItsConnection(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("PostgreSQL only")
	}
	db, _ := testdb.Open(t)
	db.SQL.SetMaxOpenConns(1)
	ctx := context.Background()
	var before, after int
	require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&before))
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := db.SQL.ExecContext(short, "SELECT pg_sleep(5)")
	require.Error(t, err)
	require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&after))
	require.Equal(t, before, after, "the same session serves the next statement")
}
