package store

// FromDriver exposes the marking of the driver's network errors.
var FromDriver = fromDriver

// BatchesSent counts the batches db's reads sent to PostgreSQL, and the
// statements in them.
func BatchesSent(db *DB) (batches, statements int64) {
	return db.reads.batches.Load(), db.reads.batched.Load()
}

// ResultFormats are the formats ent's single reads ask for.
var ResultFormats = resultFormats
