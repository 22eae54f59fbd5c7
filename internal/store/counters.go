package store

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
)

// The customer_counts table (ent/schema CustomerCount) holds each bank's
// number of customers, customer_subset_counts (CustomerSubsetCount) its
// number per status ("status:ACTIVE") and per label ("label:vip").
// Triggers on customers keep both, in the transaction of every insert,
// delete and change of status, labels or bank whoever makes it, so the
// counts are exact; on PostgreSQL a count is spread over shards (one per
// transaction) so that concurrent writes into one bank seldom queue on one
// row. The triggers are installed, and the counts computed from the
// customers, in one transaction that locks customers against writes: at
// the first start of this version (replacing the triggers of the version
// before, which kept customer_counts alone and keep it until then), and
// whenever a trigger of an earlier version is found again.
//
// A customer is in the subsets "status:" + its status and "label:" + each
// of its labels (the string elements of its labels array, each once): what
// the filters customerStatus and hasLabel match, in each dialect's JSON
// rules also for labels that ent does not write (a string instead of an
// array is one label in both; SQLite's json_each takes an object's values
// as elements, PostgreSQL's @> does not). Labels that are not valid JSON
// for SQLite's json_valid (JSON5, JSONB blobs), or arrays nested in the
// array, are not counted: ent writes neither.

// countShards matches ent/schema's CountShards.
const countShards = 8

var postgresCounters = []string{
	// Triggers of earlier versions.
	`DROP TRIGGER IF EXISTS customers_count ON customers`,
	`DROP FUNCTION IF EXISTS custgraph_count_customers()`,
	`DROP TRIGGER IF EXISTS customers_count_subsets ON customers`,
	// The subsets a customer is in.
	`CREATE OR REPLACE FUNCTION custgraph_customer_subsets(status text, labels jsonb) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
  SELECT 'status:' || status WHERE status IS NOT NULL
  UNION SELECT 'label:' || (e #>> '{}')
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(labels) = 'array' THEN labels ELSE '[]' END) e
    WHERE jsonb_typeof(e) = 'string'
  UNION SELECT 'label:' || (labels #>> '{}') WHERE jsonb_typeof(labels) = 'string'
$$`,
	// One statement's changes at once (transition tables): a bulk insert
	// of 1,000 customers updates each counter it touches once, not 1,000
	// times (in one transaction, each update leaves a row version that
	// every later one has to step over). An UPDATE adds what its new rows
	// count and takes away what its old rows counted, so a statement that
	// changes no status, label or bank writes nothing (transition tables
	// cannot be limited to some columns: every UPDATE of customers pays for
	// finding that out, a few microseconds a row). A transaction keeps to
	// one shard (its id's), and each statement takes its counters in
	// (table, bank, subset) order; two transactions on one shard can still
	// take two counters in opposite orders over several statements, which
	// PostgreSQL resolves by failing one of them (40P01), as with any rows.
	`CREATE OR REPLACE FUNCTION custgraph_count_customer_subsets() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  pick int := (txid_current() % ` + fmt.Sprint(countShards) + `)::int;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO customer_counts AS c (bank_id, shard, n)
      SELECT bank_id, pick, count(*) FROM new_rows GROUP BY bank_id ORDER BY bank_id
      ON CONFLICT (bank_id, shard) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO customer_subset_counts AS c (bank_id, subset, shard, n)
      SELECT r.bank_id, s, pick, count(*) FROM new_rows r, custgraph_customer_subsets(r.customer_status::text, r.labels) s
      GROUP BY r.bank_id, s ORDER BY r.bank_id, s
      ON CONFLICT (subset, bank_id, shard) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO customer_counts AS c (bank_id, shard, n)
      SELECT bank_id, pick, -count(*) FROM old_rows GROUP BY bank_id ORDER BY bank_id
      ON CONFLICT (bank_id, shard) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO customer_subset_counts AS c (bank_id, subset, shard, n)
      SELECT r.bank_id, s, pick, -count(*) FROM old_rows r, custgraph_customer_subsets(r.customer_status::text, r.labels) s
      GROUP BY r.bank_id, s ORDER BY r.bank_id, s
      ON CONFLICT (subset, bank_id, shard) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO customer_counts AS c (bank_id, shard, n)
      SELECT bank_id, pick, sum(d) FROM (
        SELECT bank_id, -1 AS d FROM old_rows UNION ALL SELECT bank_id, 1 FROM new_rows
      ) changes GROUP BY bank_id HAVING sum(d) <> 0 ORDER BY bank_id
      ON CONFLICT (bank_id, shard) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO customer_subset_counts AS c (bank_id, subset, shard, n)
      SELECT bank_id, s, pick, sum(d) FROM (
        SELECT r.bank_id, s, -1 AS d FROM old_rows r, custgraph_customer_subsets(r.customer_status::text, r.labels) s
        UNION ALL
        SELECT r.bank_id, s, 1 FROM new_rows r, custgraph_customer_subsets(r.customer_status::text, r.labels) s
      ) changes GROUP BY bank_id, s HAVING sum(d) <> 0 ORDER BY bank_id, s
      ON CONFLICT (subset, bank_id, shard) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$`,
	`DROP TRIGGER IF EXISTS customers_count_subsets_insert ON customers`,
	`CREATE TRIGGER customers_count_subsets_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custgraph_count_customer_subsets()`,
	`DROP TRIGGER IF EXISTS customers_count_subsets_delete ON customers`,
	`CREATE TRIGGER customers_count_subsets_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custgraph_count_customer_subsets()`,
	`DROP TRIGGER IF EXISTS customers_count_subsets_update ON customers`,
	`CREATE TRIGGER customers_count_subsets_update AFTER UPDATE ON customers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custgraph_count_customer_subsets()`,
}

// postgresRecount computes every count from the customers.
var postgresRecount = []string{
	`INSERT INTO customer_counts (bank_id, shard, n) SELECT bank_id, 0, count(*) FROM customers GROUP BY bank_id`,
	`INSERT INTO customer_subset_counts (bank_id, subset, shard, n)
SELECT c.bank_id, s, 0, count(*) FROM customers c, custgraph_customer_subsets(c.customer_status::text, c.labels) s
GROUP BY c.bank_id, s`,
}

// postgresCurrent finds the triggers of this version (1) and of earlier
// ones (2: installed again by an earlier version after this one).
const postgresCurrent = `SELECT count(*) FILTER (WHERE tgname = 'customers_count_subsets_insert'),
  count(*) FILTER (WHERE tgname IN ('customers_count', 'customers_count_subsets'))
FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal`

// sqliteSubsets is the SQL of the subsets the customer row r (NEW or OLD)
// is in, as a one-column query (s), as custgraph_customer_subsets on
// PostgreSQL.
func sqliteSubsets(r string) string {
	return strings.NewReplacer("R.", r+".").Replace(`SELECT 'status:' || R.customer_status AS s WHERE R.customer_status IS NOT NULL
  UNION SELECT 'label:' || value
    FROM json_each(CASE WHEN json_valid(R.labels) THEN R.labels ELSE '[]' END)
    WHERE type = 'text'`)
}

// sqliteAdd adds d to the counts of bank's subsets that the query subsets
// gives (SQLite has one writer at a time: one shard).
func sqliteAdd(bank, subsets, where string, d int) string {
	return fmt.Sprintf(`INSERT INTO customer_subset_counts (bank_id, subset, shard, n)
  SELECT %s, s, 0, %d FROM (%s) WHERE %s
  ON CONFLICT (subset, bank_id, shard) DO UPDATE SET n = n + %d;`, bank, d, subsets, where, d)
}

// sqliteAddAll adds d to bank's count of all customers when where holds.
func sqliteAddAll(bank, where string, d int) string {
	return fmt.Sprintf(`INSERT INTO customer_counts (bank_id, shard, n) SELECT %s, 0, %d WHERE %s
  ON CONFLICT (bank_id, shard) DO UPDATE SET n = n + %d;`, bank, d, where, d)
}

var sqliteCounters = []string{
	// Counters of an earlier version (all customers only).
	`DROP TRIGGER IF EXISTS customers_count_insert`,
	`DROP TRIGGER IF EXISTS customers_count_delete`,
	`DROP TRIGGER IF EXISTS customers_count_subsets_insert`,
	`DROP TRIGGER IF EXISTS customers_count_subsets_delete`,
	`DROP TRIGGER IF EXISTS customers_count_subsets_update`,
	`CREATE TRIGGER customers_count_subsets_insert AFTER INSERT ON customers BEGIN
  ` + sqliteAddAll("NEW.bank_id", "true", 1) + `
  ` + sqliteAdd("NEW.bank_id", sqliteSubsets("NEW"), "true", 1) + `
END`,
	`CREATE TRIGGER customers_count_subsets_delete AFTER DELETE ON customers BEGIN
  ` + sqliteAddAll("OLD.bank_id", "true", -1) + `
  ` + sqliteAdd("OLD.bank_id", sqliteSubsets("OLD"), "true", -1) + `
END`,
	`CREATE TRIGGER customers_count_subsets_update AFTER UPDATE OF customer_status, labels, bank_id ON customers
WHEN OLD.customer_status IS NOT NEW.customer_status OR OLD.labels IS NOT NEW.labels OR OLD.bank_id IS NOT NEW.bank_id
BEGIN
  ` + sqliteAddAll("OLD.bank_id", "OLD.bank_id IS NOT NEW.bank_id", -1) + `
  ` + sqliteAddAll("NEW.bank_id", "OLD.bank_id IS NOT NEW.bank_id", 1) + `
  ` + sqliteAdd("OLD.bank_id", sqliteSubsets("OLD"), "OLD.bank_id IS NOT NEW.bank_id OR s NOT IN ("+sqliteSubsets("NEW")+")", -1) + `
  ` + sqliteAdd("NEW.bank_id", sqliteSubsets("NEW"), "OLD.bank_id IS NOT NEW.bank_id OR s NOT IN ("+sqliteSubsets("OLD")+")", 1) + `
END`,
}

// sqliteRecount computes every count from the customers.
var sqliteRecount = []string{
	`INSERT INTO customer_counts (bank_id, shard, n) SELECT bank_id, 0, count(*) FROM customers GROUP BY bank_id`,
	`INSERT INTO customer_subset_counts (bank_id, subset, shard, n)
SELECT bank_id, 'status:' || customer_status, 0, count(*) FROM customers WHERE customer_status IS NOT NULL GROUP BY 1, 2
UNION ALL
SELECT c.bank_id, 'label:' || j.value, 0, count(DISTINCT c.id)
  FROM customers c, json_each(CASE WHEN json_valid(c.labels) THEN c.labels ELSE '[]' END) j
  WHERE j.type = 'text' GROUP BY 1, 2`,
}

// sqliteCurrent is postgresCurrent on SQLite.
const sqliteCurrent = `SELECT count(*) FILTER (WHERE name = 'customers_count_subsets_insert'),
  count(*) FILTER (WHERE name IN ('customers_count_insert', 'customers_count_delete'))
FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'customers'`

// installCounters installs the counting triggers unless they, and none of
// an earlier version, are there, and then computes the counts afresh, all
// in one transaction that holds off every write to customers.
func (s *DB) installCounters(ctx context.Context) error {
	var (
		check, lock      string
		install, recount []string
	)
	switch s.Dialect {
	case dialect.Postgres:
		check, lock = postgresCurrent, `LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE`
		install, recount = postgresCounters, postgresRecount
	default:
		check = sqliteCurrent
		install, recount = sqliteCounters, sqliteRecount
	}
	var current, earlier int
	if err := s.SQL.QueryRowContext(ctx, check).Scan(&current, &earlier); err != nil {
		return fmt.Errorf("looking for the customer counters: %w", err)
	}
	if current > 0 && earlier == 0 {
		return nil
	}
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	stmts := append([]string{lock}, install...)
	stmts = append(stmts, `DELETE FROM customer_counts`, `DELETE FROM customer_subset_counts`)
	for _, q := range append(stmts, recount...) {
		if q == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("installing the customer counters: %w", err)
		}
	}
	return tx.Commit()
}
