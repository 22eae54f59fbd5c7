package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	atlas "ariga.io/atlas/sql/migrate"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent/bank"
	"custgraph/ent/customer"
	"custgraph/ent/migrate"
	"custgraph/ent/migrate/migrations"
	"custgraph/ent/schema"
	"custgraph/internal/access"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// files are the names of the current dialect's migration files, in order.
func files(t *testing.T) []string {
	t.Helper()
	entries, err := fs.ReadDir(migrations.FS, testdb.Name())
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	require.NotEmpty(t, names)
	return names
}

// drift is the DDL ent's automatic migration would run on db to reach the
// ent schema: empty when the schema is current.
func drift(t *testing.T, db *store.DB) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, migrate.NewSchema(db.Driver).WriteTo(t.Context(), &b))
	return b.String()
}

type revision struct {
	version string
	typ     atlas.RevisionType
	applied int
	total   int
}

func revisions(t *testing.T, db *store.DB) []revision {
	t.Helper()
	rows, err := db.SQL.QueryContext(t.Context(), `SELECT version, type, applied, total FROM atlas_schema_revisions ORDER BY version`)
	require.NoError(t, err)
	defer rows.Close()
	var revs []revision
	for rows.Next() {
		var r revision
		require.NoError(t, rows.Scan(&r.version, &r.typ, &r.applied, &r.total))
		revs = append(revs, r)
	}
	require.NoError(t, rows.Err())
	return revs
}

func version(file string) string { return file[:strings.IndexByte(file, '_')] }

// TestFreshDatabaseIsTheEntSchema: the migration files build, on an empty
// database, exactly the schema of ent/schema, and every file is recorded.
func TestFreshDatabaseIsTheEntSchema(t *testing.T) {
	db, _ := testdb.Open(t)
	require.Empty(t, drift(t, db), "the migration files and ent/schema disagree: run go generate ./...")
	revs := revisions(t, db)
	names := files(t)
	require.Len(t, revs, len(names))
	for i, r := range revs {
		require.Equal(t, version(names[i]), r.version)
		require.Equal(t, atlas.RevisionTypeExecute, r.typ)
		require.Equal(t, r.total, r.applied, "%s applied in full", names[i])
	}

	// The check can fail: an index missing is drift.
	_, err := db.SQL.ExecContext(t.Context(), `DROP INDEX bank_name`)
	require.NoError(t, err)
	require.Contains(t, drift(t, db), "bank_name")
}

// legacy loads testdata/legacy-<dialect>.sql, a database that custgraph made
// before versioned migrations (ent's automatic migration, commit 1f11022)
// holding its demo data, into a new empty database and returns its address.
func legacy(t *testing.T) string {
	t.Helper()
	dsn := testdb.EmptyDSN(t)
	dump, err := os.ReadFile("testdata/legacy-" + testdb.Name() + ".sql")
	require.NoError(t, err)
	var raw *sql.DB
	if store.IsPostgres(dsn) {
		raw, err = sql.Open("pgx", dsn)
	} else {
		raw, err = sql.Open("sqlite", store.SQLiteDSN(dsn))
	}
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.ExecContext(t.Context(), string(dump))
	require.NoError(t, err, "loading the legacy dump")
	return dsn
}

// snapshot is every row of every table, as text, by table: what an upgrade
// must keep.
func snapshot(t *testing.T, db *sql.DB, tables []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.QueryContext(t.Context(), "SELECT * FROM "+table)
		require.NoError(t, err, table)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			var b strings.Builder
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%s=%v;", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		require.NoError(t, rows.Err())
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

// legacyTables are the tables of the legacy database.
var legacyTables = []string{
	"addresses", "api_clients", "audit_events", "banks", "crm_events", "customer_attributes",
	"customer_counts", "customer_messages", "customers", "entitlements", "login_failures", "products",
	"request_replays", "signing_keys", "social_handles", "tax_residences", "user_customer_links", "users",
}

// TestUpgradeFromAutomaticMigration starts the current code on a database
// made by the previous one (ent's automatic migration, no revisions): it is
// adopted with the first file as its baseline, the later files are applied,
// every row is kept, the schema is then the ent schema, and the counting
// triggers still count.
func TestUpgradeFromAutomaticMigration(t *testing.T) {
	dsn := legacy(t)
	names := files(t)

	// What the previous code stored, read before the upgrade.
	before := func() map[string][]string {
		raw := rawDB(t, dsn)
		defer raw.Close()
		return snapshot(t, raw, legacyTables)
	}()
	require.Len(t, before["customers"], 4, "the legacy dump holds the demo's customers")

	// A dry run says what it would do and does nothing.
	dry, err := store.Open(t.Context(), dsn, store.Options{NoMigrate: true})
	require.NoError(t, err)
	m, err := dry.Migrate(t.Context(), store.MigrateOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, version(names[0]), m.Baseline)
	require.Len(t, m.Files, len(names)-1, "every file after the baseline is pending")
	var n int
	q := `SELECT count(*) FROM sqlite_master WHERE name = 'atlas_schema_revisions'`
	if store.IsPostgres(dsn) {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_name = 'atlas_schema_revisions'`
	}
	require.NoError(t, dry.SQL.QueryRowContext(t.Context(), q).Scan(&n))
	require.Zero(t, n, "a dry run writes nothing")
	require.NoError(t, dry.Close())

	// Two replicas start on it at once (PostgreSQL: the advisory lock; SQLite:
	// its write transactions).
	dbs := make([]*store.DB, 2)
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = store.Open(context.Background(), dsn, store.Options{}) })
	}
	wg.Wait()
	for i, db := range dbs {
		require.NoError(t, errs[i], "replica %d", i)
		t.Cleanup(func() { db.Close() })
	}
	db := dbs[0]

	revs := revisions(t, db)
	require.Len(t, revs, len(names))
	require.Equal(t, revision{version: version(names[0]), typ: atlas.RevisionTypeBaseline}, revs[0], "adopted: the first file is its baseline, not run")
	for i, r := range revs[1:] {
		require.Equal(t, version(names[i+1]), r.version)
		require.Equal(t, atlas.RevisionTypeExecute, r.typ)
		require.Equal(t, r.total, r.applied)
	}
	require.Empty(t, drift(t, db), "after the upgrade the schema is the ent schema")

	// Every row is there, unchanged, in every table the previous code had
	// (columns a later file added are ignored: the snapshot is by name).
	after := snapshot(t, db.SQL, legacyTables)
	for _, table := range legacyTables {
		if table == "customer_counts" {
			continue // derived: counted afresh, per subset, below
		}
		require.Len(t, after[table], len(before[table]), table)
		for i := range before[table] {
			for _, cell := range strings.Split(before[table][i], ";") {
				require.Contains(t, after[table][i], cell+";", "%s row %d", table, i)
			}
		}
	}

	// The current code reads the old rows, and the counting triggers work.
	ctx := access.System(t.Context())
	gh, err := db.Client.Bank.Query().Where(bank.Code("gh.29.uk")).Only(ctx)
	require.NoError(t, err)
	total, err := db.Client.Customer.Query().Where(customer.BankID(gh.ID)).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, total)
	require.Equal(t, int64(4), counted(t, db, gh.ID))
	for _, s := range []customer.CustomerStatus{customer.CustomerStatusACTIVE, customer.CustomerStatusPENDING} {
		real, err := db.Client.Customer.Query().Where(customer.BankID(gh.ID), customer.CustomerStatusEQ(s)).Count(ctx)
		require.NoError(t, err)
		n, ok, err := schema.CustomerTotal(access.NewContext(ctx, access.NewViewer(access.KindClient, uuid.New(), "reader", &gh.ID,
			[]access.Grant{{Role: access.CanGetCustomer, Bank: gh.ID}})), db.Client, schema.SubsetStatus+s.String())
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, real, n, "customers of status %s", s)
	}
	_, err = db.Client.Customer.Create().SetBankID(gh.ID).SetFirstName("Ada").SetLastName("Upgrade").
		SetEmail("ada.upgrade@example.com").Save(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), counted(t, db, gh.ID))

	// A later start has nothing to do.
	again, err := store.Open(t.Context(), dsn, store.Options{NoMigrate: true})
	require.NoError(t, err)
	defer again.Close()
	m, err = again.Migrate(t.Context(), store.MigrateOptions{})
	require.NoError(t, err)
	require.Empty(t, m.Baseline)
	require.Empty(t, m.Files)
}

// TestForeignTablesAreRefused: a database holding tables that are not
// custgraph's is neither adopted nor migrated.
func TestForeignTablesAreRefused(t *testing.T) {
	dsn := testdb.EmptyDSN(t)
	raw := rawDB(t, dsn)
	_, err := raw.ExecContext(t.Context(), `CREATE TABLE invoices (id integer PRIMARY KEY)`)
	require.NoError(t, err)
	raw.Close()
	_, err = store.Open(t.Context(), dsn, store.Options{})
	require.ErrorContains(t, err, "not custgraph's")
}

func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	var (
		raw *sql.DB
		err error
	)
	if store.IsPostgres(dsn) {
		raw, err = sql.Open("pgx", dsn)
	} else {
		raw, err = sql.Open("sqlite", store.SQLiteDSN(dsn))
	}
	require.NoError(t, err)
	return raw
}

func counted(t *testing.T, db *store.DB, bankID uuid.UUID) int64 {
	t.Helper()
	var n int64
	q := `SELECT coalesce(sum(n), 0) FROM customer_counts WHERE bank_id = ?`
	if db.Dialect == "postgres" {
		q = strings.ReplaceAll(q, "?", "$1")
	}
	require.NoError(t, db.SQL.QueryRowContext(t.Context(), q, bankID).Scan(&n))
	return n
}
