-- R-NO-OVERLAP's last guard: one row per booked session; no two bookings of a therapist
-- come closer than the turnover in force when the later of them was booked. A therapist id
-- names a therapist of one clinic (the staff facts come per clinic), as in the planner's core.
-- btree_gist gives gist indexes `=` on text. `courseflow db provision` creates it as a
-- superuser (a service's least-privilege role may not); when it exists, as after
-- provisioning, this statement does nothing and needs no rights.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- timestamptz + interval is only STABLE in general (days and months depend on the time
-- zone); a number of minutes never does, so this one is IMMUTABLE and may be indexed.
CREATE OR REPLACE FUNCTION busy_until(ends_at timestamptz, turnover_min integer)
    RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ends_at + make_interval(mins => turnover_min);

CREATE TABLE IF NOT EXISTS bookings (
    patient_id    text        NOT NULL,
    session_id    text        NOT NULL,  -- unique within its patient only
    therapist_id  text        NOT NULL,
    clinic_id     text        NOT NULL,
    course_id     text        NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    -- PLANNER_TURNOVER_MIN when the session was booked: a new setting applies to new bookings.
    turnover_min  integer     NOT NULL CHECK (turnover_min >= 0),
    PRIMARY KEY (patient_id, session_id),
    CHECK (ends_at > starts_at),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        clinic_id WITH =,
        therapist_id WITH =,
        tstzrange(starts_at, busy_until(ends_at, turnover_min)) WITH &&
    )
);
CREATE INDEX IF NOT EXISTS bookings_of_clinic ON bookings (clinic_id, starts_at);
