package store

import (
	"database/sql/driver"
	"strings"

	"modernc.org/sqlite"
)

// SQLite's LOWER folds ASCII letters only, so the case-insensitive filters
// (search, …ContainsFold, …EqualFold: ent writes LOWER(column) LIKE the
// pattern it lowers in Go) did not find "ÄRGER" by "ärger" on SQLite, where
// PostgreSQL's ILIKE did. LOWER is replaced, on every SQLite connection,
// by Go's Unicode lower-casing, the one ent applies to the pattern. (No
// SQLite index is built on LOWER.)
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		default: // NULL, and numbers, which have no letters
			return v, nil
		}
	})
}
