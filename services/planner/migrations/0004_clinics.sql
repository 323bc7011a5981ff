-- Each clinic's staff facts (clinic.staff-events): the roster is built from them.
-- The row is written under the clinic's lock (LockNamespace.CLINIC).
CREATE TABLE IF NOT EXISTS clinics (
    clinic_id   text        PRIMARY KEY,
    roster      jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
