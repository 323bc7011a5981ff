-- The calendars (0005) are written and read whole and never looked inside in SQL: `json`
-- keeps the text as written, where `jsonb` built a binary document at every write and printed
-- it again at every read (with rosters, each patient's memory holds every announced session
-- with its therapist and time; docs/performance.md).
ALTER TABLE patients
    ALTER COLUMN calendar DROP DEFAULT,
    ALTER COLUMN calendar TYPE json USING calendar::json,
    ALTER COLUMN calendar SET DEFAULT '[]';
ALTER TABLE deliveries
    ALTER COLUMN calendar TYPE json USING calendar::json;
