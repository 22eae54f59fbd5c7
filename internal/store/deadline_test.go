package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// TestAWaitPastTheDeadlineIsATimeout: a change whose request ran out of
// time while it waited for another transaction's row lock is answered
// TIMEOUT, as any request past its deadline, not INTERNAL: the error
// database/sql hands back then ("sql: Rows are closed", "transaction has
// already been committed or rolled back") does not say why.
func TestAWaitPastTheDeadlineIsATimeout(t *testing.T) {
	if testdb.Name() != "postgres" {
		t.Skip("SQLite runs one write at a time; set " + testdb.Env)
	}
	db, _ := testdb.Open(t)
	sys := access.System(context.Background())
	b := db.Client.Bank.Create().SetCode("gh.29.uk").SetName("Bank").SaveX(sys)
	cu := db.Client.Customer.Create().SetBankID(b.ID).SetFirstName("Ada").SetLastName("Lovelace").SaveX(sys)

	holder, err := db.Client.Tx(sys)
	require.NoError(t, err)
	defer func() { _ = holder.Rollback() }()
	require.NoError(t, holder.Customer.UpdateOneID(cu.ID).SetEmail("ada@example.com").Exec(sys))

	ctx, cancel := context.WithTimeout(sys, 300*time.Millisecond)
	defer cancel()
	tx, err := db.Client.Tx(ctx)
	require.NoError(t, err)
	err = tx.Customer.UpdateOneID(cu.ID).SetFirstName("Augusta").Exec(ctx) // reads the old names, locked: waits
	_ = tx.Rollback()
	require.Error(t, err)
	e := store.Report(ctx, slog.New(slog.DiscardHandler), err, "test")
	require.Equal(t, apperr.Timeout, e.Code, "%v", err)

	// The same error within the request's time stays what it is.
	require.Equal(t, apperr.Internal, store.Report(sys, slog.New(slog.DiscardHandler), errRowsClosed, "test").Code)
}

var errRowsClosed = errorString("sql: Rows are closed")

type errorString string

func (e errorString) Error() string { return string(e) }
