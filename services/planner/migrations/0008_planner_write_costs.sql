-- A random token per clinic, replaced by every statement that writes the clinic's bookings,
-- in the writer's own transaction: a planner keeps a clinic's bookings in memory between
-- batches and reads them again only when the token is no longer the one it saw or wrote
-- (services/planner/repository.py). Random, not a counter: a write rolled back, or another
-- process's write, can never leave the token a stale copy was kept under.
CREATE TABLE IF NOT EXISTS booking_versions (
    clinic_id text PRIMARY KEY,
    token     uuid NOT NULL
);

-- The table's own schema named: a writer's search_path may not hold it (`courseflow db prune`).
CREATE OR REPLACE FUNCTION bookings_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %I.booking_versions (clinic_id, token) '
        'SELECT clinic_id, gen_random_uuid() FROM (SELECT DISTINCT clinic_id FROM written) AS w '
        'ON CONFLICT (clinic_id) DO UPDATE SET token = EXCLUDED.token',
        TG_TABLE_SCHEMA);
    RETURN NULL;
END $$;

-- A trigger with transition tables names one event only.
CREATE OR REPLACE TRIGGER bookings_inserted AFTER INSERT ON bookings
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();
CREATE OR REPLACE TRIGGER bookings_deleted AFTER DELETE ON bookings
    REFERENCING OLD TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();
CREATE OR REPLACE TRIGGER bookings_updated_from AFTER UPDATE ON bookings
    REFERENCING OLD TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();
CREATE OR REPLACE TRIGGER bookings_updated_to AFTER UPDATE ON bookings
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION bookings_written();

-- R-NO-OVERLAP's guard (0005) unchanged in what it refuses, its gist index keyed by the time
-- range first: the index then groups bookings by time rather than by clinic and therapist,
-- whose few distinct values made every insert's search and placement in the tree costlier
-- (about half the time per booking written, measured: docs/performance.md).
ALTER TABLE bookings
    DROP CONSTRAINT IF EXISTS bookings_no_overlap,
    ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        tstzrange(starts_at, busy_until(ends_at, turnover_min)) WITH &&,
        clinic_id WITH =,
        therapist_id WITH =
    );

-- A patient's state grows with its placements (a therapist and a start per session) past
-- the size PostgreSQL compresses; lz4 compresses and reads it back at a fraction of pglz's
-- CPU. Values written from now on; a server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE patients ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;
