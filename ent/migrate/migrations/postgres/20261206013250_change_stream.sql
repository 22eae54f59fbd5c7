-- Modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "customer_id" uuid NULL, ADD COLUMN "txid" bigint NULL DEFAULT ((pg_current_xact_id())::text)::bigint;
-- Create index "auditevent_customer_id" to table: "audit_events"
CREATE INDEX "auditevent_customer_id" ON "audit_events" ("customer_id");
-- Create index "auditevent_txid_id" to table: "audit_events"
CREATE INDEX "auditevent_txid_id" ON "audit_events" ("txid", "id");
