-- A failing timer is retried with backoff, then set aside (services/runtime/timers.py).
ALTER TABLE timers
    ADD COLUMN IF NOT EXISTS attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS retry_at     timestamptz,
    ADD COLUMN IF NOT EXISTS set_aside_at timestamptz;
