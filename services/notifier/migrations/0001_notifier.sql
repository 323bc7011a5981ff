-- One row per notice and recipient: the notice itself and its delivery, a durable queue.
-- The unique key is the contract's "exactly one notice per cause, kind and recipient".
CREATE TABLE IF NOT EXISTS deliveries (
    notice_id         uuid        PRIMARY KEY,
    cause_id          text        NOT NULL,
    kind              text        NOT NULL,
    recipient         text        NOT NULL,
    channel           text        NOT NULL,
    family            text        NOT NULL,
    patient_id        text        NOT NULL,
    correlation_id    text,
    summary           text        NOT NULL,
    rules             text[]      NOT NULL,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    status            text        NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'merged', 'delivered', 'failed')),
    attempts          integer     NOT NULL DEFAULT 0,
    due_at            timestamptz NOT NULL,
    carried_by        uuid        REFERENCES deliveries (notice_id),
    merged_kinds      text[]      NOT NULL DEFAULT '{}',
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    UNIQUE (cause_id, kind, recipient)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_waiting
    ON deliveries (patient_id, recipient, family) WHERE status = 'pending' AND attempts = 0;
CREATE INDEX IF NOT EXISTS deliveries_carried ON deliveries (carried_by) WHERE carried_by IS NOT NULL;

-- What staff were already told about each patient's eligibility (decision_notices.py).
CREATE TABLE IF NOT EXISTS patients (
    patient_id                   text    PRIMARY KEY,
    version                      integer NOT NULL,
    blocked_by_postop            boolean NOT NULL,
    surgical_evaluation_advised  boolean NOT NULL
);
