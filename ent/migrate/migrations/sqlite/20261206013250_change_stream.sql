-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_audit_events" table
CREATE TABLE `new_audit_events` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `actor_kind` text NOT NULL, `actor_id` uuid NULL, `actor_name` text NOT NULL, `requestor_id` text NULL, `request_id` text NULL, `operation` text NOT NULL, `entity_type` text NOT NULL, `entity_id` uuid NOT NULL, `bank_id` uuid NULL, `fields` json NULL, `customer_id` uuid NULL, `txid` integer NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "audit_events" to new temporary table "new_audit_events"
INSERT INTO `new_audit_events` (`id`, `created_at`, `updated_at`, `actor_kind`, `actor_id`, `actor_name`, `requestor_id`, `request_id`, `operation`, `entity_type`, `entity_id`, `bank_id`, `fields`) SELECT `id`, `created_at`, `updated_at`, `actor_kind`, `actor_id`, `actor_name`, `requestor_id`, `request_id`, `operation`, `entity_type`, `entity_id`, `bank_id`, `fields` FROM `audit_events` ORDER BY `rowid`;
-- Drop "audit_events" table after copying rows
DROP TABLE `audit_events`;
-- Rename temporary table "new_audit_events" to "audit_events"
ALTER TABLE `new_audit_events` RENAME TO `audit_events`;
-- Create index "auditevent_created_at_id" to table: "audit_events"
CREATE INDEX `auditevent_created_at_id` ON `audit_events` (`created_at`, `id`);
-- Create index "auditevent_updated_at" to table: "audit_events"
CREATE INDEX `auditevent_updated_at` ON `audit_events` (`updated_at`);
-- Create index "auditevent_entity_id" to table: "audit_events"
CREATE INDEX `auditevent_entity_id` ON `audit_events` (`entity_id`);
-- Create index "auditevent_actor_id" to table: "audit_events"
CREATE INDEX `auditevent_actor_id` ON `audit_events` (`actor_id`);
-- Create index "auditevent_bank_id_created_at" to table: "audit_events"
CREATE INDEX `auditevent_bank_id_created_at` ON `audit_events` (`bank_id`, `created_at`);
-- Create index "auditevent_requestor_id" to table: "audit_events"
CREATE INDEX `auditevent_requestor_id` ON `audit_events` (`requestor_id`);
-- Create index "auditevent_txid_id" to table: "audit_events"
CREATE INDEX `auditevent_txid_id` ON `audit_events` (`txid`, `id`);
-- Create index "auditevent_customer_id" to table: "audit_events"
CREATE INDEX `auditevent_customer_id` ON `audit_events` (`customer_id`);
-- Number the events written before the change stream in their commit order (the rowid's)
UPDATE `audit_events` SET `txid` = `rowid`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
