CREATE TABLE IF NOT EXISTS effects (
    event_id text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
