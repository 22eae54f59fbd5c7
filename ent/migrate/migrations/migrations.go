// Package migrations holds custgraph's versioned migration files, one
// directory per dialect (sqlite, postgres), each with Atlas's atlas.sum.
// ent/migrate/main.go writes them from ent/schema (`go generate ./...`);
// internal/store applies them. Committed files are never edited: a schema
// change adds a file.
package migrations

import "embed"

// FS holds the directories sqlite and postgres.
//
//go:embed sqlite/*.sql sqlite/atlas.sum postgres/*.sql postgres/atlas.sum
var FS embed.FS
