package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"custgraph/ent/bank"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// TestWriteTimeout: a transaction that outlives the write timeout is rolled
// back (on SQLite: the write lock is released) and its next statement fails
// with TIMEOUT; another writer goes on meanwhile, and nothing of the slow
// one lands.
func TestWriteTimeout(t *testing.T) {
	db, _ := testdb.Open(t)
	db.SetWriteTimeout(200 * time.Millisecond)
	sys := access.System(context.Background())
	slow, err := db.Client.Tx(sys)
	require.NoError(t, err)
	require.NoError(t, slow.Bank.Create().SetCode("slow.bank").SetName("Slow").Exec(sys))

	// Another writer: on SQLite it waits for the slow one's lock, which the
	// timeout releases well within the busy timeout.
	done := make(chan error, 1)
	go func() { done <- db.Client.Bank.Create().SetCode("other.bank").SetName("Other").Exec(sys) }()
	require.NoError(t, <-done)

	<-time.After(300 * time.Millisecond)
	err = slow.Bank.Create().SetCode("late.bank").SetName("Late").Exec(sys)
	require.ErrorIs(t, err, store.ErrWriteTimeout)
	require.Equal(t, apperr.Timeout, store.Classify(err).Code)
	require.Error(t, slow.Commit())
	require.False(t, db.Client.Bank.Query().Where(bank.Code("slow.bank")).ExistX(sys), "the slow write is gone")
	require.True(t, db.Client.Bank.Query().Where(bank.Code("other.bank")).ExistX(sys))

	db.SetWriteTimeout(0)
	tx, err := db.Client.Tx(sys)
	require.NoError(t, err)
	<-time.After(300 * time.Millisecond)
	require.NoError(t, tx.Bank.Create().SetCode("patient.bank").SetName("Patient").Exec(sys))
	require.NoError(t, tx.Commit())
}
