// Package testdb gives each test a fresh, real database: a SQLite file in
// the test's temporary directory by default, or a new PostgreSQL database
// when TEST_DATABASE_URL names a PostgreSQL server (it is dropped when the
// test ends). Statements are counted, so tests can assert exact SQL counts.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection

	"custgraph/internal/store"
)

// Env is the variable that switches tests to PostgreSQL.
const Env = "TEST_DATABASE_URL"

// DSN returns the address of a fresh, empty database (removed when the
// test ends), for tests that open it themselves.
func DSN(t testing.TB) string {
	t.Helper()
	if admin := os.Getenv(Env); admin != "" {
		return freshPostgres(t, admin)
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// Open returns a fresh database and its statement counter.
func Open(t testing.TB) (*store.DB, *atomic.Int64) {
	t.Helper()
	db, statements, _ := OpenDSN(t)
	return db, statements
}

// OpenDSN is Open that also returns the database's address, for opening
// it again as another replica would (Reopen).
func OpenDSN(t testing.TB) (*store.DB, *atomic.Int64, string) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "test.db")
	if admin := os.Getenv(Env); admin != "" {
		dsn = freshPostgres(t, admin)
	}
	db, statements := Reopen(t, dsn)
	return db, statements, dsn
}

// EmptyDSN returns the address of a new, empty database (nothing
// migrated): a SQLite file in the test's temporary directory, or a new
// PostgreSQL database when TEST_DATABASE_URL is set.
func EmptyDSN(t testing.TB) string {
	t.Helper()
	if admin := os.Getenv(Env); admin != "" {
		return freshPostgres(t, admin)
	}
	return filepath.Join(t.TempDir(), "empty.db")
}

// Reopen opens the database at dsn (from OpenDSN) once more, with a pool,
// a statement counter and a change listener of its own: another replica.
func Reopen(t testing.TB, dsn string) (*store.DB, *atomic.Int64) {
	t.Helper()
	statements := new(atomic.Int64)
	db, err := store.Open(context.Background(), dsn, store.Options{
		Wrap: func(d dialect.Driver) dialect.Driver { return store.Counting(d, statements) },
		// Quiet: every test database logs its migration otherwise.
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("opening the test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, statements
}

// Name is "sqlite" or "postgres": the database the tests run on.
func Name() string {
	if os.Getenv(Env) != "" {
		return "postgres"
	}
	return "sqlite"
}

func freshPostgres(t testing.TB, admin string) string {
	t.Helper()
	if !store.IsPostgres(admin) {
		t.Fatalf("%s must be a postgres:// URL, got %q", Env, admin)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "custgraph_t_" + hex.EncodeToString(b)
	conn, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("connecting to %s: %v", Env, err)
	}
	if _, err := conn.Exec("CREATE DATABASE " + name); err != nil {
		conn.Close()
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		defer conn.Close()
		if _, err := conn.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parsing %s: %v", Env, err)
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String()
}
