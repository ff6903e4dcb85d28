-- stepgraph PostgreSQL graph sink: matching mapped relationships reads
-- only entities of their target types.
--
-- A key set with a property (e.g. ["_type","roleName","tag.AccountName"])
-- was matched by a hash join over every instance's entities: each sync of
-- an instance with such mapped relationships read the whole entity table
-- (0.6 s at 358,000 entities, growing with the database). The match now
-- passes the target types of the instance's relationships as a constant,
-- so the entities are read through the (type, key) index.

CREATE OR REPLACE FUNCTION resolve_mapped_relationships(p_run bigint, p_instance bigint)
RETURNS TABLE (resolved bigint, placeholders_created bigint, pointed_at_placeholders bigint, pending bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    ks    jsonb;
    cond  text;
    n     bigint;
    types text[];
BEGIN
    PERFORM sg_scratch();
    resolved := 0;

    -- Targets deleted since they were resolved (by their own instance).
    UPDATE relationship r SET mapping_status = 'pending'
    WHERE r.instance_id = p_instance AND r.mapping IS NOT NULL AND r.mapping_status IN ('resolved', 'created')
      AND NOT EXISTS (SELECT 1 FROM entity e WHERE e.id = (CASE WHEN r.reverse THEN r.from_id ELSE r.to_id END));

    -- Match against real entities, set by set.
    FOR ks IN
        SELECT DISTINCT x.ks
        FROM relationship r, jsonb_array_elements(r.mapping->'targetFilterKeys') AS x(ks)
        WHERE r.instance_id = p_instance AND r.mapping IS NOT NULL AND r.mapping_status IN ('pending', 'created')
        ORDER BY 1
    LOOP
        cond := mapping_match_condition(ks);
        CONTINUE WHEN cond IS NULL;
        -- The target types of this key set's relationships, as a constant:
        -- the planner then reads only entities of those types (an index
        -- scan) instead of every instance's entities.
        types := NULL;
        IF ks ? '_type' THEN
            SELECT array_agg(DISTINCT r.mapping->'targetEntity'->>'_type') INTO types
            FROM relationship r
            WHERE r.instance_id = p_instance AND r.mapping IS NOT NULL AND r.mapping_status IN ('pending', 'created')
              AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.mapping->'targetFilterKeys') AS y(k) WHERE y.k = ks);
            CONTINUE WHEN types IS NULL;
        END IF;
        EXECUTE format($q$
            WITH m AS (
                SELECT DISTINCT ON (r.id) r.id AS rid, e.id AS eid, e.key AS ekey,
                       r.mapping_status AS old_status,
                       CASE WHEN r.reverse THEN r.from_id ELSE r.to_id END AS old_id
                FROM relationship r
                JOIN entity e ON %s
                WHERE r.instance_id = $2 AND r.mapping IS NOT NULL AND r.mapping_status IN ('pending', 'created')
                  AND e.instance_id <> 0
                  AND ($3::text[] IS NULL OR e.type = ANY ($3::text[]))
                  AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.mapping->'targetFilterKeys') AS y(ks) WHERE y.ks = $1)
                ORDER BY r.id, e.id),
            u AS (
                UPDATE relationship r SET
                    from_id  = CASE WHEN r.reverse THEN m.eid ELSE r.from_id END,
                    from_key = CASE WHEN r.reverse THEN m.ekey ELSE r.from_key END,
                    to_id    = CASE WHEN r.reverse THEN r.to_id ELSE m.eid END,
                    to_key   = CASE WHEN r.reverse THEN r.to_key ELSE m.ekey END,
                    mapping_status = 'resolved'
                FROM m
                WHERE r.id = m.rid
                RETURNING m.old_status, m.old_id),
            g AS (
                INSERT INTO pg_temp.sg_gc SELECT old_id FROM u WHERE old_status = 'created' AND old_id IS NOT NULL)
            SELECT count(*) FROM u
        $q$, cond) INTO n USING ks, p_instance, types;
        resolved := resolved + n;
    END LOOP;

    -- Create (or find and lock) the missing targets.
    TRUNCATE pg_temp.sg_want;
    INSERT INTO pg_temp.sg_want
    SELECT DISTINCT ON (pkey) pkey, t->>'_type', jsonb_text_array(t->'_class'),
           coalesce(t->>'displayName', t->>'name', pkey),
           t - '_key' - '_type' - '_class' - 'displayName'
    FROM (SELECT placeholder_key(r.mapping) AS pkey, r.mapping->'targetEntity' AS t
          FROM relationship r
          WHERE r.instance_id = p_instance AND r.mapping IS NOT NULL AND r.mapping_status = 'pending'
            AND NOT coalesce((r.mapping->>'skipTargetCreation')::boolean, false)) s
    WHERE pkey IS NOT NULL AND t->>'_type' IS NOT NULL
    ORDER BY pkey;
    placeholders_created := ensure_placeholders(p_run);

    UPDATE relationship r SET
        from_id  = CASE WHEN r.reverse THEN p.id ELSE r.from_id END,
        from_key = CASE WHEN r.reverse THEN p.pkey ELSE r.from_key END,
        to_id    = CASE WHEN r.reverse THEN r.to_id ELSE p.id END,
        to_key   = CASE WHEN r.reverse THEN r.to_key ELSE p.pkey END,
        mapping_status = 'created'
    FROM pg_temp.sg_ph p
    WHERE r.instance_id = p_instance AND r.mapping IS NOT NULL AND r.mapping_status = 'pending'
      AND NOT coalesce((r.mapping->>'skipTargetCreation')::boolean, false)
      AND p.pkey = placeholder_key(r.mapping);
    GET DIAGNOSTICS pointed_at_placeholders = ROW_COUNT;

    SELECT count(*) INTO pending FROM relationship r
    WHERE r.instance_id = p_instance AND r.mapping IS NOT NULL AND r.mapping_status = 'pending';
    RETURN NEXT;
END
$fn$;
