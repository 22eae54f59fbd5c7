package store

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"
)

// The customer_counts table (ent/schema CustomerCount) holds each bank's
// number of customers. Triggers on customers keep it, in the transaction of
// every insert and delete whoever makes it, so the count is exact; on
// PostgreSQL a bank's count is spread over shards (a random one per row) so
// that concurrent inserts into one bank do not queue on one row. The
// triggers are installed, and the counts computed from the customers, once,
// in the migration's transaction that locks customers against writes.

// countShards matches ent/schema's CountShards.
const countShards = 8

var postgresCounters = []string{
	`CREATE OR REPLACE FUNCTION custgraph_count_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO customer_counts (bank_id, shard, n) VALUES (NEW.bank_id, floor(random() * ` + fmt.Sprint(countShards) + `)::int, 1)
    ON CONFLICT (bank_id, shard) DO UPDATE SET n = customer_counts.n + 1;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO customer_counts (bank_id, shard, n) VALUES (OLD.bank_id, floor(random() * ` + fmt.Sprint(countShards) + `)::int, -1)
    ON CONFLICT (bank_id, shard) DO UPDATE SET n = customer_counts.n - 1;
  END IF;
  RETURN NULL;
END $$`,
	`DROP TRIGGER IF EXISTS customers_count ON customers`,
	`CREATE TRIGGER customers_count AFTER INSERT OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION custgraph_count_customers()`,
}

// SQLite has one writer at a time: one row per bank.
var sqliteCounters = []string{
	`DROP TRIGGER IF EXISTS customers_count_insert`,
	`DROP TRIGGER IF EXISTS customers_count_delete`,
	`CREATE TRIGGER customers_count_insert AFTER INSERT ON customers BEGIN
  INSERT OR IGNORE INTO customer_counts (bank_id, shard, n) VALUES (NEW.bank_id, 0, 0);
  UPDATE customer_counts SET n = n + 1 WHERE bank_id = NEW.bank_id AND shard = 0;
END`,
	`CREATE TRIGGER customers_count_delete AFTER DELETE ON customers BEGIN
  UPDATE customer_counts SET n = n - 1 WHERE bank_id = OLD.bank_id AND shard = 0;
END`,
}

// installCounters installs the counting triggers unless they are there, and
// then computes the counts afresh, all in one transaction that holds off
// every write to customers.
func (s *DB) installCounters(ctx context.Context) error {
	var (
		check, lock string
		install     []string
	)
	switch s.Dialect {
	case dialect.Postgres:
		check = `SELECT count(*) FROM pg_trigger WHERE tgname = 'customers_count' AND NOT tgisinternal`
		lock = `LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE`
		install = postgresCounters
	default:
		check = `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'customers_count_insert'`
		install = sqliteCounters
	}
	var n int
	if err := s.SQL.QueryRowContext(ctx, check).Scan(&n); err != nil {
		return fmt.Errorf("looking for the customer counters: %w", err)
	}
	if n > 0 {
		return nil
	}
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	stmts := append([]string{lock}, install...)
	stmts = append(stmts, `DELETE FROM customer_counts`,
		`INSERT INTO customer_counts (bank_id, shard, n) SELECT bank_id, 0, count(*) FROM customers GROUP BY bank_id`)
	for _, q := range stmts {
		if q == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("installing the customer counters: %w", err)
		}
	}
	return tx.Commit()
}
