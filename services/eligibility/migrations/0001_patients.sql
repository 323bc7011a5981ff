-- Each patient's clinical timeline and the last decision published for it.
CREATE TABLE IF NOT EXISTS patients (
    patient_id  text        PRIMARY KEY,
    timeline    jsonb       NOT NULL,
    decision    jsonb,
    version     integer     NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Durable timers: the clinic-local day on which the decision changes by time alone.
CREATE TABLE IF NOT EXISTS timers (
    patient_id  text PRIMARY KEY REFERENCES patients (patient_id),
    due_on      date NOT NULL
);
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_on);
