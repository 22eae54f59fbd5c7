-- Drop index "customer_customer_status" from table: "customers"
DROP INDEX "customer_customer_status";
-- Create index "customer_customer_status_created_at_id" to table: "customers"
CREATE INDEX "customer_customer_status_created_at_id" ON "customers" ("customer_status", "created_at", "id");
