-- Modify "request_replays" table
ALTER TABLE "request_replays" ALTER COLUMN "requestor_id" DROP NOT NULL, ADD COLUMN "fingerprint" character varying NULL, ADD COLUMN "headers" jsonb NULL;
