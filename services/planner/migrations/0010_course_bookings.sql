-- R-NO-OVERLAP's last guard, one row per course and therapist instead of one per session.
-- A course's sessions move together: a session performed on another day than planned moves
-- the rest of its course (R-CADENCE), a dozen bookings at a time. As one row per session,
-- each move rewrote a dozen rows and a dozen entries of the exclusion constraint's gist
-- index, the costliest write of a planner batch with rosters; as one row per course and
-- therapist it rewrites one (docs/performance.md, "Capacity: rosters").
--
-- The row holds the sessions of one course that one therapist gives, booked under one
-- turnover (PLANNER_TURNOVER_MIN when they were booked: a new setting applies to new
-- bookings), in arrays ordered by start. `busy` is derived from them by the database, so no
-- writer can get the guard wrong: each session's [start, end + turnover) as one multirange.
-- Two rows of a therapist whose multiranges overlap are refused; within a row, two sessions
-- that come closer than the turnover would merge into one range of `busy`, and the CHECK
-- refuses that too (the sessions of one course never share a day).
--
-- A planner of an earlier version cannot write bookings after this migration (README,
-- "Upgrades"): every planner replica is stopped before the first of this version starts.

CREATE OR REPLACE FUNCTION busy_spans(starts_at timestamptz[], ends_at timestamptz[],
                                      turnover_min integer)
    RETURNS tstzmultirange LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT range_agg(tstzrange(s, busy_until(e, turnover_min)))
            FROM unnest(starts_at, ends_at) AS u(s, e));

CREATE OR REPLACE FUNCTION spans_in(busy tstzmultirange)
    RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT count(*) FROM unnest(busy));

CREATE TABLE IF NOT EXISTS course_bookings (
    patient_id    text          NOT NULL,
    course_id     text          NOT NULL,
    therapist_id  text          NOT NULL,
    clinic_id     text          NOT NULL,
    turnover_min  integer       NOT NULL CHECK (turnover_min >= 0),
    session_ids   text[]        NOT NULL,  -- each unique within its patient only
    starts_at     timestamptz[] NOT NULL,
    ends_at       timestamptz[] NOT NULL,
    busy          tstzmultirange NOT NULL
        GENERATED ALWAYS AS (busy_spans(starts_at, ends_at, turnover_min)) STORED,
    PRIMARY KEY (patient_id, course_id, therapist_id, turnover_min),
    CHECK (cardinality(session_ids) > 0
           AND cardinality(starts_at) = cardinality(session_ids)
           AND cardinality(ends_at) = cardinality(session_ids)
           AND spans_in(busy) = cardinality(session_ids)),
    CONSTRAINT course_bookings_no_overlap EXCLUDE USING gist (
        clinic_id WITH =,
        therapist_id WITH =,
        busy WITH &&
    )
);
CREATE INDEX IF NOT EXISTS course_bookings_of_clinic ON course_bookings (clinic_id);

-- The bookings held so far, moved over (each group's sessions are a turnover apart already,
-- as the old constraint kept them).
INSERT INTO course_bookings
    (patient_id, course_id, therapist_id, clinic_id, turnover_min, session_ids, starts_at, ends_at)
SELECT patient_id, course_id, therapist_id, clinic_id, turnover_min,
       array_agg(session_id ORDER BY starts_at, session_id),
       array_agg(starts_at ORDER BY starts_at, session_id),
       array_agg(ends_at ORDER BY starts_at, session_id)
FROM bookings
GROUP BY patient_id, course_id, therapist_id, clinic_id, turnover_min;
DROP TABLE bookings;  -- its triggers go with it

-- One row per booked session, as before, for every reader (the planner's load, operators).
CREATE OR REPLACE VIEW bookings AS
SELECT b.patient_id, s.session_id, b.therapist_id, b.clinic_id, b.course_id,
       s.starts_at, s.ends_at, b.turnover_min
FROM course_bookings AS b,
     unnest(b.session_ids, b.starts_at, b.ends_at) AS s(session_id, starts_at, ends_at);

-- A planner kept the clinics' bookings in memory under the old table's tokens: new ones.
UPDATE booking_versions SET token = gen_random_uuid();

CREATE OR REPLACE TRIGGER course_bookings_inserted AFTER INSERT ON course_bookings
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();
CREATE OR REPLACE TRIGGER course_bookings_deleted AFTER DELETE ON course_bookings
    REFERENCING OLD TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();
CREATE OR REPLACE TRIGGER course_bookings_updated_from AFTER UPDATE ON course_bookings
    REFERENCING OLD TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();
CREATE OR REPLACE TRIGGER course_bookings_updated_to AFTER UPDATE ON course_bookings
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();
