-- Create index "auditevent_bank_id_txid_id" to table: "audit_events"
CREATE INDEX "auditevent_bank_id_txid_id" ON "audit_events" ("bank_id", "txid", "id");
