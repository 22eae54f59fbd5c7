//go:build ignore

// main.go writes the versioned migration files of custgraph's database
// schema, one directory per dialect (ent/migrate/migrations/sqlite and
// …/postgres, each with its atlas.sum), from ent/schema. Run through
// `go generate ./...` from the repository root (see server.go), after entc.
//
// For each dialect it replays the committed files on an empty development
// database, compares the result with the ent schema (ent's versioned
// migrations on Atlas's Go library) and, when they differ, writes one new
// file, <UTC timestamp>_<name>.sql, and updates atlas.sum; when they agree it
// writes nothing, so regenerating an unchanged schema changes no file (CI
// checks that). Drops are written too: review them before committing.
//
// The development databases: SQLite in memory, and a throwaway PostgreSQL
// database created on the server named by CUSTGRAPH_MIGRATE_DEV_URL
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and
// dropped afterwards. MIGRATION_NAME names the new files (default
// "changes").
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"custgraph/ent/migrate"
)

const root = "ent/migrate/migrations"

func main() {
	log.SetFlags(0)
	log.SetPrefix("ent/migrate: ")
	ctx := context.Background()
	name := os.Getenv("MIGRATION_NAME")
	if name == "" {
		name = "changes"
	}
	// One version for the files of both dialects written by this run.
	version := time.Now().UTC().Format("20060102150405")

	sqlite, err := sql.Open("sqlite", "file:custgraph_migrate_dev?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		log.Fatal(err)
	}
	sqlite.SetMaxOpenConns(1) // one connection: one in-memory database
	defer sqlite.Close()
	generate(ctx, dialect.SQLite, sqlite, name, version)

	admin := os.Getenv("CUSTGRAPH_MIGRATE_DEV_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	pg, drop, err := throwawayPostgres(ctx, admin)
	if err != nil {
		log.Fatalf("the PostgreSQL development database: %v\n"+
			"Start PostgreSQL (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "+
			"or point CUSTGRAPH_MIGRATE_DEV_URL at a server where this user may create databases.", err)
	}
	defer drop()
	generate(ctx, dialect.Postgres, pg, name, version)
}

// generate writes dialect's new migration file, if the ent schema differs
// from what the committed files build on the empty database db.
func generate(ctx context.Context, dialectName string, db *sql.DB, name, version string) {
	path := filepath.Join(root, dialectDir(dialectName))
	if err := os.MkdirAll(path, 0o755); err != nil {
		log.Fatal(err)
	}
	dir, err := atlas.NewLocalDir(path)
	if err != nil {
		log.Fatal(err)
	}
	before, err := dir.Files()
	if err != nil {
		log.Fatal(err)
	}
	// Atlas's default format, with this run's version.
	format := slices.Clone(atlas.DefaultFormatter)
	format[0].N = template.Must(template.New("").Parse(version + "{{ with .Name }}_{{ . }}{{ end }}.sql"))
	err = migrate.NewSchema(entsql.OpenDB(dialectName, db)).NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialectName),
		schema.WithFormatter(format),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		log.Fatalf("%s: %v", dialectName, err)
	}
	after, err := dir.Files()
	if err != nil {
		log.Fatal(err)
	}
	if len(after) == len(before) {
		log.Printf("%s: %s is current", dialectName, path)
		return
	}
	log.Printf("%s: wrote %s: review it and commit it with atlas.sum", dialectName, filepath.Join(path, after[len(after)-1].Name()))
}

func dialectDir(d string) string {
	if d == dialect.Postgres {
		return "postgres"
	}
	return "sqlite"
}

// throwawayPostgres creates an empty database on the server of admin and
// returns it with the function that drops it.
func throwawayPostgres(ctx context.Context, admin string) (*sql.DB, func(), error) {
	a, err := sql.Open("pgx", admin)
	if err != nil {
		return nil, nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "custgraph_migrate_dev_" + hex.EncodeToString(b)
	if _, err := a.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		a.Close()
		return nil, nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	u.Path = "/" + name
	q := u.Query()
	q.Set("search_path", "public") // files without schema qualifiers
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err == nil {
		err = db.PingContext(ctx)
	}
	drop := func() {
		if db != nil {
			db.Close()
		}
		if _, err := a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			log.Printf("dropping %s: %v", name, err)
		}
		a.Close()
	}
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("%s: %w", strings.TrimPrefix(u.Redacted(), "postgres://"), err)
	}
	return db, drop, nil
}
