-- Which patients a staff change may concern, readable by the clinic's batch without any
-- patient's lock (services/planner/clinic_repository.py): the clinic of the latest
-- enrolment, and the courses under way that more capacity could place (never placed, or
-- with sessions waiting, R-CAPACITY: PatientState.courses_to_place). Written with the state.
ALTER TABLE patients
    ADD COLUMN IF NOT EXISTS clinic_id        text,
    ADD COLUMN IF NOT EXISTS courses_to_place text[] NOT NULL DEFAULT '{}';

-- Rows stored before: their courses under way that hold no placement (none waited yet).
UPDATE patients SET
    clinic_id = NULLIF(state->'profile'->>'clinic_id', ''),
    courses_to_place = ARRAY(
        SELECT c->>'course_id' FROM jsonb_array_elements(state->'published') AS c
        WHERE c->>'status' IN ('pending', 'active') AND jsonb_array_length(c->'sessions') > 0
          AND NOT EXISTS (
              SELECT 1 FROM jsonb_array_elements(state->'placements') AS p
              WHERE p->>'course_id' = c->>'course_id'
          )
        ORDER BY 1
    )
WHERE jsonb_typeof(state->'published') = 'array';

CREATE INDEX IF NOT EXISTS patients_to_place ON patients (clinic_id)
    WHERE courses_to_place <> '{}';
