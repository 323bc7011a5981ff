-- The planner writes and reads each patient's state whole and never looks inside it in SQL,
-- so the state is kept as the JSON text it was written as: `json` checks the syntax only,
-- where `jsonb` parsed every written state into its binary form and printed it again at
-- every read (with rosters, the placements make a state several kilobytes: about half of
-- the planner's per-row write time; docs/performance.md).
ALTER TABLE patients ALTER COLUMN state TYPE json USING state::json;

-- A new type forgets the column's compression: lz4 again, as 0008 set it.
DO $$
BEGIN
    ALTER TABLE patients ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;
