-- Drop index "usercustomerlink_user_id_bank_id" from table: "user_customer_links"
DROP INDEX "usercustomerlink_user_id_bank_id";
-- Create index "usercustomerlink_bank_id" to table: "user_customer_links"
CREATE INDEX "usercustomerlink_bank_id" ON "user_customer_links" ("bank_id");
-- Create index "usercustomerlink_user_id_customer_id" to table: "user_customer_links"
CREATE UNIQUE INDEX "usercustomerlink_user_id_customer_id" ON "user_customer_links" ("user_id", "customer_id");
