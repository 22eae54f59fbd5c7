package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	atlaspg "ariga.io/atlas/sql/postgres"
	atlaslite "ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"

	"custgraph/ent/migrate/migrations"
	"custgraph/ent/schema"
	"custgraph/internal/access"
)

// The schema is versioned: ent/migrate/migrations holds one directory of
// migration files per dialect, written from ent/schema by
// ent/migrate/main.go and reviewed in the repository. Migrate applies the
// files the database has not seen, with Atlas's executor, each in its own
// transaction (a file that fails leaves nothing behind), recording them in
// the table atlas_schema_revisions (the columns of the Atlas CLI's).
//
// A database made by custgraph before versioned migrations (by ent's
// automatic migration, at the schema of the first file) has custgraph's
// tables but no revisions: it is adopted, that is the first file is
// recorded as its baseline without being run, and the later files are
// applied to it.

// revisionsTable records the applied migration files.
const revisionsTable = "atlas_schema_revisions"

// MigrateOptions tune Migrate.
type MigrateOptions struct {
	// DryRun finds what would be done and does nothing.
	DryRun bool
	// Logger receives a line per adopted database and per applied file;
	// default slog.Default().
	Logger *slog.Logger
}

// Migration is what Migrate did, or with DryRun would do.
type Migration struct {
	// Baseline is the version recorded, without running it, for a
	// database made before versioned migrations ("" otherwise).
	Baseline string
	// Files are the migration files applied (or pending), in order.
	Files []MigrationFile
}

// MigrationFile is one migration file.
type MigrationFile struct {
	Name       string
	Statements []string
}

// Migrate brings the database's schema to the last migration file. On
// PostgreSQL it holds an advisory lock meanwhile, so that replicas starting
// together take turns; on SQLite each file's transaction is a write
// transaction, which SQLite serialises.
func (s *DB) Migrate(ctx context.Context, opts MigrateOptions) (*Migration, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	conn, err := s.SQL.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	switch s.Dialect {
	case dialect.Postgres:
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
			return nil, fmt.Errorf("taking the migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock) //nolint:errcheck
	default:
		// SQLite rebuilds a table to change a column: with foreign keys
		// enforced, dropping the old table would cascade to the rows that
		// refer to it. The pragma cannot change inside a transaction; the
		// keys are checked before each file commits instead.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return nil, err
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); err != nil {
				// Never hand the pool a connection without foreign keys.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	dir, err := migrationDir(s.Dialect)
	if err != nil {
		return nil, err
	}
	m := &Migration{}
	for {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		done, err := s.migrateStep(ctx, tx, dir, m, opts)
		if err == nil && !opts.DryRun && s.Dialect == dialect.SQLite {
			err = foreignKeyCheck(ctx, tx)
		}
		if err != nil || opts.DryRun {
			_ = tx.Rollback()
			return m, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		if done {
			// Not in the files: see counters.go.
			if err := s.installCounters(ctx); err != nil {
				return m, err
			}
			if len(m.Files) > 0 {
				// Data: customers stored before the name mapping get their
				// names (once, with the files of the upgrade; an audited
				// update by custgraph's migration actor).
				if _, err := schema.DeriveNames(access.SystemAs(ctx, "migration"), s.Client); err != nil {
					return m, fmt.Errorf("deriving customers' names: %w", err)
				}
			}
			return m, nil
		}
		f := m.Files[len(m.Files)-1]
		opts.Logger.InfoContext(ctx, "schema migrated", "file", f.Name, "statements", len(f.Statements))
	}
}

// migrateStep applies the first pending file in tx, or with DryRun adds
// every pending file to m. done reports that no file was pending.
func (s *DB) migrateStep(ctx context.Context, tx *sql.Tx, dir atlas.Dir, m *Migration, opts MigrateOptions) (done bool, err error) {
	rrw := &revisions{tx: tx, pg: s.Dialect == dialect.Postgres}
	if err := rrw.create(ctx); err != nil {
		return false, fmt.Errorf("creating %s: %w", revisionsTable, err)
	}
	var drv atlas.Driver
	if rrw.pg {
		if err := tx.QueryRowContext(ctx, "SELECT current_schema()").Scan(&rrw.schema); err != nil {
			return false, err
		}
		drv, err = atlaspg.Open(tx)
	} else {
		drv, err = atlaslite.Open(tx)
	}
	if err != nil {
		return false, err
	}
	var exOpts []atlas.ExecutorOption
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil {
		return false, err
	}
	if len(revs) == 0 {
		var dirty *atlas.NotCleanError
		switch err := drv.CheckClean(ctx, rrw.Ident()); {
		case errors.As(err, &dirty):
			legacy, err := s.madeByAutomaticMigration(ctx, tx)
			if err != nil {
				return false, err
			}
			if !legacy {
				return false, fmt.Errorf("the database holds tables that are not custgraph's (%s): give custgraph a database of its own", dirty.Reason)
			}
			files, err := dir.Files()
			if err != nil || len(files) == 0 {
				return false, fmt.Errorf("no migration files: %v", err)
			}
			m.Baseline = files[0].Version()
			exOpts = append(exOpts, atlas.WithBaselineVersion(m.Baseline))
			if !opts.DryRun {
				opts.Logger.InfoContext(ctx, "adopting a database made by the automatic migration: its schema is taken as the first migration file",
					"baseline", files[0].Name())
			}
		case err != nil:
			return false, err
		}
	}
	ex, err := atlas.NewExecutor(drv, dir, rrw, append(exOpts, atlas.WithOperatorVersion("custgraph"))...)
	if err != nil {
		return false, err
	}
	pending, err := ex.Pending(ctx)
	if errors.Is(err, atlas.ErrNoPendingFiles) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("finding pending migrations: %w", err)
	}
	if opts.DryRun {
		for _, f := range pending {
			mf, err := migrationFile(drv, f)
			if err != nil {
				return false, err
			}
			m.Files = append(m.Files, mf)
		}
		return true, nil
	}
	mf, err := migrationFile(drv, pending[0])
	if err != nil {
		return false, err
	}
	if err := ex.Execute(ctx, pending[0]); err != nil {
		return false, fmt.Errorf("migrating the schema: %s: %w", pending[0].Name(), err)
	}
	m.Files = append(m.Files, mf)
	return false, nil
}

func migrationFile(drv atlas.Driver, f atlas.File) (MigrationFile, error) {
	stmts, err := atlas.FileStmts(drv, f)
	if err != nil {
		return MigrationFile{}, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return MigrationFile{Name: f.Name(), Statements: stmts}, nil
}

// madeByAutomaticMigration reports whether the database holds custgraph's
// tables, as ent's automatic migration made them before versioned
// migrations.
func (s *DB) madeByAutomaticMigration(ctx context.Context, tx *sql.Tx) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('banks', 'customers', 'api_clients')`
	if s.Dialect == dialect.Postgres {
		q = `SELECT count(*) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name IN ('banks', 'customers', 'api_clients')`
	}
	var n int
	if err := tx.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return false, err
	}
	return n == 3, nil
}

// foreignKeyCheck fails if a row refers to a missing one (SQLite, whose
// migrations run with the keys unenforced).
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("migrating the schema: a row of %s refers to a missing row of %s", table, parent)
	}
	return rows.Err()
}

// migrationDir is the dialect's directory of migration files.
func migrationDir(d string) (atlas.Dir, error) {
	name := "sqlite"
	if d == dialect.Postgres {
		name = "postgres"
	}
	entries, err := fs.ReadDir(migrations.FS, name)
	if err != nil {
		return nil, err
	}
	dir := &atlas.MemDir{}
	for _, e := range entries {
		b, err := fs.ReadFile(migrations.FS, name+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	return dir, nil
}

// revisions is Atlas's revision storage in the table revisionsTable, read
// and written in the migration's transaction.
type revisions struct {
	tx     *sql.Tx
	pg     bool
	schema string // PostgreSQL: the schema the table is in
}

func (r *revisions) create(ctx context.Context) error {
	ts, js := "datetime", "text"
	if r.pg {
		ts, js = "timestamptz", "jsonb"
	}
	_, err := r.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+revisionsTable+` (
  version varchar NOT NULL PRIMARY KEY,
  description varchar NOT NULL,
  type bigint NOT NULL DEFAULT 2,
  applied bigint NOT NULL DEFAULT 0,
  total bigint NOT NULL DEFAULT 0,
  executed_at `+ts+` NOT NULL,
  execution_time bigint NOT NULL,
  error text NULL,
  error_stmt text NULL,
  hash varchar NOT NULL,
  partial_hashes `+js+` NULL,
  operator_version varchar NOT NULL
)`)
	return err
}

// q numbers the placeholders for PostgreSQL.
func (r *revisions) q(query string) string {
	if !r.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Ident implements atlas.RevisionReadWriter.
func (r *revisions) Ident() *atlas.TableIdent {
	return &atlas.TableIdent{Name: revisionsTable, Schema: r.schema}
}

const revisionColumns = `version, description, type, applied, total, executed_at, execution_time,
  error, error_stmt, hash, partial_hashes, operator_version`

// ReadRevisions implements atlas.RevisionReadWriter.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*atlas.Revision, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT `+revisionColumns+` FROM `+revisionsTable+` ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var revs []*atlas.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	return revs, rows.Err()
}

// ReadRevision implements atlas.RevisionReadWriter.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*atlas.Revision, error) {
	rows, err := r.tx.QueryContext(ctx, r.q(`SELECT `+revisionColumns+` FROM `+revisionsTable+` WHERE version = ?`), version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, atlas.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

// WriteRevision implements atlas.RevisionReadWriter.
func (r *revisions) WriteRevision(ctx context.Context, rev *atlas.Revision) error {
	var partial any
	if len(rev.PartialHashes) > 0 {
		b, err := json.Marshal(rev.PartialHashes)
		if err != nil {
			return err
		}
		partial = string(b)
	}
	_, err := r.tx.ExecContext(ctx, r.q(`INSERT INTO `+revisionsTable+` (`+revisionColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (version) DO UPDATE SET description = excluded.description, type = excluded.type,
  applied = excluded.applied, total = excluded.total, executed_at = excluded.executed_at,
  execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt,
  hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`),
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, rev.ExecutedAt.UTC(),
		int64(rev.ExecutionTime), nullString(rev.Error), nullString(rev.ErrorStmt), rev.Hash, partial, rev.OperatorVersion)
	return err
}

// DeleteRevision implements atlas.RevisionReadWriter.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	_, err := r.tx.ExecContext(ctx, r.q(`DELETE FROM `+revisionsTable+` WHERE version = ?`), version)
	return err
}

func scanRevision(rows *sql.Rows) (*atlas.Revision, error) {
	var (
		rev              atlas.Revision
		typ, took        int64
		errText, errStmt sql.NullString
		partial          sql.NullString
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &rev.ExecutedAt, &took,
		&errText, &errStmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, err
	}
	rev.Type, rev.ExecutionTime = atlas.RevisionType(typ), time.Duration(took)
	rev.Error, rev.ErrorStmt = errText.String, errStmt.String
	if partial.Valid && partial.String != "" {
		if err := json.Unmarshal([]byte(partial.String), &rev.PartialHashes); err != nil {
			return nil, err
		}
	}
	return &rev, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
