-- Most of the planner's schedule events are past the size PostgreSQL compresses (4.7-5.0 KB
-- on the bench's workload, 86 % over 2 KB); lz4 compresses and reads them back at a fraction
-- of pglz's CPU: 42-44 -> 17 µs per row enqueued, about the same size (docs/performance.md).
-- Values written from now on; a server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE outbox ALTER COLUMN value SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;
