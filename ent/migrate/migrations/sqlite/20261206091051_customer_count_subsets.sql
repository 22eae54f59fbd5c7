-- Drop the customer counting triggers of the previous version: they name
-- "customer_counts", which SQLite will not rename under them (internal/store
-- installs the new ones, and recounts, after the migration).
DROP TRIGGER IF EXISTS `customers_count_insert`;
DROP TRIGGER IF EXISTS `customers_count_delete`;
-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_customer_counts" table
CREATE TABLE `new_customer_counts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `bank_id` uuid NOT NULL, `subset` text NOT NULL DEFAULT (''), `shard` integer NOT NULL, `n` integer NOT NULL);
-- Copy rows from old table "customer_counts" to new temporary table "new_customer_counts"
INSERT INTO `new_customer_counts` (`id`, `bank_id`, `shard`, `n`) SELECT `id`, `bank_id`, `shard`, `n` FROM `customer_counts`;
-- Drop "customer_counts" table after copying rows
DROP TABLE `customer_counts`;
-- Rename temporary table "new_customer_counts" to "customer_counts"
ALTER TABLE `new_customer_counts` RENAME TO `customer_counts`;
-- Create index "customercount_subset_bank_id_shard" to table: "customer_counts"
CREATE UNIQUE INDEX `customercount_subset_bank_id_shard` ON `customer_counts` (`subset`, `bank_id`, `shard`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
