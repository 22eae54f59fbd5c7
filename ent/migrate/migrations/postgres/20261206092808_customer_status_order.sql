-- The new index first: the old one is dropped (an exclusive lock on customers) just before the commit.
-- Create index "customer_customer_status_created_at_id" to table: "customers"
CREATE INDEX "customer_customer_status_created_at_id" ON "customers" ("customer_status", "created_at", "id");
-- Drop index "customer_customer_status" from table: "customers"
DROP INDEX "customer_customer_status";
