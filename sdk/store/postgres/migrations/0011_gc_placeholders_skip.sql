-- stepgraph PostgreSQL graph sink: gc_placeholders() with nothing to
-- collect reads nothing.
--
-- Most after-syncs stop pointing to no placeholder: pg_temp.sg_gc is
-- empty, and the planner (which has no statistics on the scratch table)
-- still read every placeholder of instance 0 to lock and check the
-- candidates, twice: about 0.2 s per sync with 100,000 placeholder people,
-- growing with every instance's placeholders. It now returns at once.
CREATE OR REPLACE FUNCTION gc_placeholders(p_run bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    n bigint;
BEGIN
    PERFORM sg_scratch();
    IF NOT EXISTS (SELECT 1 FROM pg_temp.sg_gc WHERE id IS NOT NULL) THEN
        TRUNCATE pg_temp.sg_gc;
        RETURN 0;
    END IF;
    ANALYZE pg_temp.sg_gc;
    PERFORM 1 FROM entity e
    WHERE e.instance_id = 0 AND e.id IN (SELECT id FROM pg_temp.sg_gc)
    ORDER BY e.id
    FOR UPDATE;
    WITH gone AS (
        DELETE FROM entity e
        WHERE e.instance_id = 0 AND e.id IN (SELECT id FROM pg_temp.sg_gc)
          AND NOT EXISTS (SELECT 1 FROM relationship r WHERE r.from_id = e.id)
          AND NOT EXISTS (SELECT 1 FROM relationship r WHERE r.to_id = e.id)
        RETURNING e.id, e.key, e.type, e.classes, e.display_name, e.properties, e.run_id),
    logged AS (
        INSERT INTO change_log_entry (run_id, instance_id, at, kind, change, key, type, before)
        SELECT x.run_id, 0, x.at, 'entity', x.change, x.key, x.type, x.before
        FROM (SELECT g.run_id, b.loaded_at AS at, 'added' AS change, g.key, g.type, NULL::jsonb AS before, 0 AS ord, g.id
              FROM gone g JOIN sync_run b ON b.id = g.run_id AND b.baseline
              UNION ALL
              SELECT p_run, now(), 'removed', g.key, g.type, entity_doc(g.classes, g.display_name, g.properties), 1, g.id
              FROM gone g) x
        ORDER BY x.ord, x.id
        RETURNING change)
    SELECT count(*) FILTER (WHERE change = 'removed') INTO n FROM logged;
    TRUNCATE pg_temp.sg_gc;
    RETURN n;
END
$fn$;
