-- Subscribable calendar feeds (services/planner/feeds/): one row per URL ever handed out.
-- The URL's secret is not stored: only its SHA-256 (how a request finds its feed) and the
-- nonce it was derived from with the operators' URL key (how the same URL is printed again).
-- A revoked row stays, so its URL keeps answering 404; a new URL is a new row.
CREATE TABLE IF NOT EXISTS calendar_feeds (
    token_sha256  bytea       PRIMARY KEY,
    nonce         text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('course')),
    patient_id    text        NOT NULL,
    course_id     text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
-- At most one live URL per feed: asking twice gives the same one.
CREATE UNIQUE INDEX IF NOT EXISTS calendar_feeds_live
    ON calendar_feeds (kind, patient_id, course_id) WHERE revoked_at IS NULL;
