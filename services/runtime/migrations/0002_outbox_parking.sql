-- A row that can never be published (too large, topic gone, not authorised) is parked: set
-- aside with its reason, out of the relay's way, and listed by `courseflow outbox parked`.
ALTER TABLE outbox
    ADD COLUMN IF NOT EXISTS parked_at   timestamptz,
    ADD COLUMN IF NOT EXISTS park_reason text;

DROP INDEX IF EXISTS outbox_unsent;
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_parked ON outbox (id) WHERE parked_at IS NOT NULL;
