-- Each patient's planner state: clinical facts and what was last published per course.
-- The row is also the per-patient lock both consumed topics take turns on.
CREATE TABLE IF NOT EXISTS patients (
    patient_id  text        PRIMARY KEY,
    state       jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Durable next-course reminders (R-COURSES-PER-YEAR): fire a Tick on the clinic-local day.
CREATE TABLE IF NOT EXISTS reminders (
    patient_id  text NOT NULL REFERENCES patients (patient_id),
    course_id   text NOT NULL,
    fire_on     date NOT NULL,
    PRIMARY KEY (patient_id, course_id)
);
CREATE INDEX IF NOT EXISTS reminders_due ON reminders (fire_on);
