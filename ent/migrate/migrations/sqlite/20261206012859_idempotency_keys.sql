-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_request_replays" table
CREATE TABLE `new_request_replays` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `caller` text NOT NULL, `key` text NOT NULL, `requestor_id` text NULL, `fingerprint` text NULL, `status` integer NOT NULL, `headers` json NULL, `response` blob NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "request_replays" to new temporary table "new_request_replays"
INSERT INTO `new_request_replays` (`id`, `created_at`, `updated_at`, `caller`, `key`, `requestor_id`, `status`, `response`) SELECT `id`, `created_at`, `updated_at`, `caller`, `key`, `requestor_id`, `status`, `response` FROM `request_replays`;
-- Drop "request_replays" table after copying rows
DROP TABLE `request_replays`;
-- Rename temporary table "new_request_replays" to "request_replays"
ALTER TABLE `new_request_replays` RENAME TO `request_replays`;
-- Create index "request_replays_key_key" to table: "request_replays"
CREATE UNIQUE INDEX `request_replays_key_key` ON `request_replays` (`key`);
-- Create index "requestreplay_created_at_id" to table: "request_replays"
CREATE INDEX `requestreplay_created_at_id` ON `request_replays` (`created_at`, `id`);
-- Create index "requestreplay_updated_at" to table: "request_replays"
CREATE INDEX `requestreplay_updated_at` ON `request_replays` (`updated_at`);
-- Create index "requestreplay_caller_created_at" to table: "request_replays"
CREATE INDEX `requestreplay_caller_created_at` ON `request_replays` (`caller`, `created_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
