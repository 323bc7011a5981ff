-- One subscribable feed per therapist of a clinic (a therapist id names a therapist of one
-- clinic, as in the bookings): a 'therapist' row names the clinic and the therapist, a
-- 'course' row the patient and the course, and no row both.
ALTER TABLE calendar_feeds
    ADD COLUMN IF NOT EXISTS clinic_id text,
    ADD COLUMN IF NOT EXISTS therapist_id text,
    ALTER COLUMN patient_id DROP NOT NULL,
    ALTER COLUMN course_id DROP NOT NULL,
    DROP CONSTRAINT IF EXISTS calendar_feeds_kind_check,
    ADD CONSTRAINT calendar_feeds_kind_check CHECK (
        (kind = 'course' AND patient_id IS NOT NULL AND course_id IS NOT NULL
         AND clinic_id IS NULL AND therapist_id IS NULL)
        OR (kind = 'therapist' AND clinic_id IS NOT NULL AND therapist_id IS NOT NULL
            AND patient_id IS NULL AND course_id IS NULL)
    );
-- At most one live URL per therapist feed, as calendar_feeds_live for a course's (the NULLs
-- of the other kind's columns never collide in either index).
CREATE UNIQUE INDEX IF NOT EXISTS calendar_feeds_live_therapist
    ON calendar_feeds (kind, clinic_id, therapist_id) WHERE revoked_at IS NULL;
