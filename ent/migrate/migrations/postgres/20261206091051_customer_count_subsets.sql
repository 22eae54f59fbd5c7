-- Drop index "customercount_bank_id_shard" from table: "customer_counts"
DROP INDEX "customercount_bank_id_shard";
-- Modify "customer_counts" table
ALTER TABLE "customer_counts" ADD COLUMN "subset" character varying NOT NULL DEFAULT '';
-- Create index "customercount_subset_bank_id_shard" to table: "customer_counts"
CREATE UNIQUE INDEX "customercount_subset_bank_id_shard" ON "customer_counts" ("subset", "bank_id", "shard");
