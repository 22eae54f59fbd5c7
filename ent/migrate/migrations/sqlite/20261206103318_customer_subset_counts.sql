-- Create "customer_subset_counts" table
CREATE TABLE `customer_subset_counts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `bank_id` uuid NOT NULL, `subset` text NOT NULL, `shard` integer NOT NULL, `n` integer NOT NULL);
-- Create index "customersubsetcount_subset_bank_id_shard" to table: "customer_subset_counts"
CREATE UNIQUE INDEX `customersubsetcount_subset_bank_id_shard` ON `customer_subset_counts` (`subset`, `bank_id`, `shard`);
