-- R-ADVANCED-STAGE: the stages staff were already advised surgical evaluation for (once per
-- patient and stage). Rows from before remember the advice without a stage
-- (surgical_evaluation_advised); decision_notices.py counts it for the next stage named.
-- R-COURSE-BREAK: the latest day a completed or cancelled course said the next may start.
ALTER TABLE patients
    ADD COLUMN IF NOT EXISTS advised_stages smallint[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS next_course_from date;
