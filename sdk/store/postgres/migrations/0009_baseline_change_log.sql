-- stepgraph PostgreSQL graph sink: an instance's first load is its
-- baseline, and the change log states its added rows instead of storing
-- them.
--
-- A first load used to write one change-log row per object (966,173 rows
-- with three index entries each for a 100,000-user Okta org, plus one per
-- placeholder person and rule relationship its after-sync created): about
-- a sixth of the load's server work, to record "everything was added".
-- Those rows follow from what is stored, so they are no longer written:
--
-- * sync_run.baseline marks the instance's first loaded run (the instance
--   held nothing before it); sync_run.loaded_at is when a run's load
--   transaction ran (the time of the rows a baseline states).
-- * The stored rows move to change_log_entry. change_log is now a view
--   with the same columns: every stored row, plus an 'added' row (no id,
--   no before or after document, like every 'added' row) for each object
--   a baseline run added that no later run has touched: the rows of the
--   instance whose run_id (the run that added or last changed the row) is
--   the baseline run, and the placeholder entities (instance 0) it
--   created (placeholders are never updated).
-- * When a later run changes or removes an object still as its baseline
--   left it, it first stores the baseline's 'added' row for it (under the
--   baseline run, at its time), so the object's history stays complete:
--   the loader does so for entities and relationships, and so do
--   map_users_to_people() (rule relationships) and gc_placeholders()
--   (placeholders). A row's run_id now changes only together with a
--   logged change.
-- * Every function that writes the change log writes change_log_entry and
--   stores no 'added' row for a baseline run; map_users_to_people() of a
--   baseline inserts its relationships set-based, without an upsert.

ALTER TABLE sync_run
    ADD COLUMN baseline boolean NOT NULL DEFAULT false,
    ADD COLUMN loaded_at timestamptz;

ALTER TABLE change_log RENAME TO change_log_entry;
-- An object's stored history (and the key lookups of the view's users).
CREATE INDEX change_log_entry_object ON change_log_entry (instance_id, key);

-- The lateral part is evaluated only for baseline runs, found first: a
-- query about other runs (the usual "what changed in run N") reads no
-- entity or relationship row for it.
CREATE VIEW change_log AS
SELECT c.id, c.run_id, c.instance_id, c.at, c.kind, c.change, c.key, c.type, c.before, c.after
FROM change_log_entry c
UNION ALL
SELECT NULL::bigint, b.id, x.instance_id, b.loaded_at, x.kind, 'added'::text, x.key, x.type, NULL::jsonb, NULL::jsonb
FROM sync_run b
CROSS JOIN LATERAL (
    SELECT e.instance_id, 'entity'::text AS kind, e.key, e.type
    FROM entity e
    WHERE e.instance_id = b.instance_id AND e.run_id = b.id
    UNION ALL
    SELECT r.instance_id, 'relationship'::text, r.key, r.type
    FROM relationship r
    WHERE r.instance_id = b.instance_id AND r.run_id = b.id
    UNION ALL
    SELECT p.instance_id, 'entity'::text, p.key, p.type
    FROM entity p
    WHERE p.instance_id = 0 AND p.run_id = b.id
) x
WHERE b.baseline;

-- Whether p_run is a baseline run (false for NULL).
CREATE FUNCTION run_is_baseline(p_run bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT coalesce((SELECT baseline FROM sync_run WHERE id = p_run), false)
$$;

CREATE OR REPLACE FUNCTION ensure_placeholders(p_run bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    created bigint := 0;
    n       bigint;
    want    bigint;
    base    boolean := run_is_baseline(p_run);
BEGIN
    TRUNCATE pg_temp.sg_ph;
    SELECT count(*) INTO want FROM pg_temp.sg_want;
    FOR attempt IN 1..5 LOOP
        -- Rows this transaction creates need no lock: no other
        -- transaction sees them before it commits. A baseline run logs
        -- none (the change_log view states them).
        WITH ins AS (
            INSERT INTO entity (instance_id, key, type, classes, display_name, properties,
                                first_seen, modified_at, run_id)
            SELECT 0, w.pkey, w.type, w.classes, w.display_name, w.properties, now(), now(), p_run
            FROM pg_temp.sg_want w
            WHERE NOT EXISTS (SELECT 1 FROM pg_temp.sg_ph p WHERE p.pkey = w.pkey)
            ORDER BY w.pkey
            ON CONFLICT (instance_id, key) DO NOTHING
            RETURNING id, key, type),
        mine AS (
            INSERT INTO pg_temp.sg_ph SELECT key, id FROM ins),
        logged AS (
            INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type)
            SELECT p_run, 0, 'entity', 'added', key, type
            FROM ins
            WHERE NOT base)
        SELECT count(*) INTO n FROM ins;
        created := created + n;
        SELECT count(*) INTO n FROM pg_temp.sg_ph;
        EXIT WHEN n >= want;
        -- A placeholder removed by a concurrent gc after the insert saw it
        -- is not returned here: the next attempt creates it again.
        WITH l AS (
            SELECT e.key, e.id FROM pg_temp.sg_want w
            JOIN entity e ON e.instance_id = 0 AND e.key = w.pkey
            WHERE NOT EXISTS (SELECT 1 FROM pg_temp.sg_ph p WHERE p.pkey = w.pkey)
            ORDER BY e.id
            FOR KEY SHARE OF e)
        INSERT INTO pg_temp.sg_ph SELECT key, id FROM l ON CONFLICT DO NOTHING;
        SELECT count(*) INTO n FROM pg_temp.sg_ph;
        EXIT WHEN n >= want;
    END LOOP;
    RETURN created;
END
$fn$;

CREATE OR REPLACE FUNCTION map_users_to_people(p_run bigint, p_instance bigint)
RETURNS TABLE (users_mapped bigint, people_created bigint, added bigint, changed bigint, removed bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT SET work_mem = '64MB' AS $fn$
BEGIN
    PERFORM sg_scratch();
    DROP TABLE IF EXISTS pg_temp.sg_rule_users;
    CREATE TEMP TABLE sg_rule_users ON COMMIT DROP AS
    SELECT u.id AS user_id, u.key AS user_key, u.type AS user_type,
           lower(btrim(u.properties->>'email')) AS email,
           coalesce(u.properties->>'name', u.display_name) AS name
    FROM entity u
    WHERE u.instance_id = p_instance
      AND u.classes @> ARRAY['User']
      AND jsonb_typeof(u.properties->'email') = 'string'
      AND btrim(u.properties->>'email') <> ''
      AND lower(coalesce(u.properties->>'userType', '')) NOT IN ('generic', 'service', 'bot');
    ANALYZE sg_rule_users;

    -- Real people (of any instance) for these emails.
    DROP TABLE IF EXISTS pg_temp.sg_rule_real;
    CREATE TEMP TABLE sg_rule_real ON COMMIT DROP AS
    SELECT DISTINCT ON (u.email) u.email, p.id, p.key
    FROM (SELECT DISTINCT email FROM sg_rule_users) u
    JOIN entity p ON p.type = 'employee' AND p.properties ? 'email'
                 AND lower(p.properties->>'email') = u.email AND p.instance_id <> 0
    ORDER BY u.email, p.id;
    CREATE UNIQUE INDEX ON sg_rule_real (email);

    -- Placeholders for the others. A placeholder the user's relationship
    -- already points to needs no lock (that reference is committed);
    -- every other one is created or found, and locked.
    TRUNCATE pg_temp.sg_want;
    INSERT INTO pg_temp.sg_want
    SELECT DISTINCT ON (u.email) 'employee:' || u.email, 'employee', ARRAY['Person'], coalesce(u.name, u.email),
           jsonb_strip_nulls(jsonb_build_object('email', u.email, 'name', u.name))
    FROM sg_rule_users u
    WHERE NOT EXISTS (SELECT 1 FROM sg_rule_real r WHERE r.email = u.email)
      AND NOT EXISTS (
          SELECT 1 FROM relationship x JOIN entity ph ON ph.id = x.to_id
          WHERE x.instance_id = p_instance AND x.rule = 'user_is_person'
            AND x.key = p_instance || '/' || u.user_key || '|is|employee'
            AND ph.instance_id = 0 AND ph.key = 'employee:' || u.email)
    ORDER BY u.email, u.user_id;
    ANALYZE pg_temp.sg_want;
    people_created := ensure_placeholders(p_run);

    -- The relationships the rule wants.
    DROP TABLE IF EXISTS pg_temp.sg_rule_rels;
    CREATE TEMP TABLE sg_rule_rels ON COMMIT DROP AS
    SELECT p_instance || '/' || u.user_key || '|is|employee' AS key,
           u.user_type || '_is_employee' AS type,
           u.user_key, u.user_id,
           coalesce(r.key, ph.pkey, ph0.key) AS person_key, coalesce(r.id, ph.id, ph0.id) AS person_id,
           jsonb_build_object('email', u.email) AS properties
    FROM sg_rule_users u
    LEFT JOIN sg_rule_real r ON r.email = u.email
    LEFT JOIN pg_temp.sg_ph ph ON r.email IS NULL AND ph.pkey = 'employee:' || u.email
    LEFT JOIN entity ph0 ON r.email IS NULL AND ph.pkey IS NULL AND ph0.instance_id = 0 AND ph0.key = 'employee:' || u.email
    WHERE coalesce(r.id, ph.id, ph0.id) IS NOT NULL;
    SELECT count(*) INTO users_mapped FROM sg_rule_rels;

    IF run_is_baseline(p_run)
       AND NOT EXISTS (SELECT 1 FROM relationship r WHERE r.instance_id = p_instance AND r.rule IS NOT NULL) THEN
        -- The instance's baseline: every relationship is new, none is
        -- logged (the change_log view states them). Plain inserts in key
        -- order.
        INSERT INTO relationship (instance_id, key, type, class, display_name, from_key, to_key,
                                  from_id, to_id, properties, rule, first_seen, modified_at, run_id)
        SELECT p_instance, d.key, d.type, 'IS', 'IS', d.user_key, d.person_key, d.user_id, d.person_id,
               d.properties, 'user_is_person', now(), now(), p_run
        FROM sg_rule_rels d
        ORDER BY d.key;
        GET DIAGNOSTICS added = ROW_COUNT;
        changed := 0;
        removed := 0;
        RETURN NEXT;
        RETURN;
    END IF;

    CREATE UNIQUE INDEX ON sg_rule_rels (key);
    ANALYZE sg_rule_rels;

    WITH gone AS (
        DELETE FROM relationship r
        WHERE r.instance_id = p_instance AND r.rule = 'user_is_person'
          AND NOT EXISTS (SELECT 1 FROM sg_rule_rels d WHERE d.key = r.key)
        RETURNING r.*),
    gc AS (
        INSERT INTO pg_temp.sg_gc SELECT to_id FROM gone WHERE to_id IS NOT NULL),
    stated AS (
        INSERT INTO change_log_entry (run_id, instance_id, at, kind, change, key, type)
        SELECT g.run_id, p_instance, b.loaded_at, 'relationship', 'added', g.key, g.type
        FROM gone g JOIN sync_run b ON b.id = g.run_id AND b.baseline)
    INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type, before)
    SELECT p_run, p_instance, 'relationship', 'removed', key, type,
           relationship_doc(class, display_name, from_key, to_key, mapping, properties)
    FROM gone;
    GET DIAGNOSTICS removed = ROW_COUNT;

    INSERT INTO pg_temp.sg_gc
    SELECT r.to_id FROM relationship r JOIN sg_rule_rels d ON d.key = r.key
    WHERE r.instance_id = p_instance AND r.rule = 'user_is_person' AND r.to_id IS DISTINCT FROM d.person_id AND r.to_id IS NOT NULL;

    -- Only new and changed relationships are written (an upsert would
    -- lock every unchanged row).
    WITH prev AS (
        SELECT r.* FROM relationship r JOIN sg_rule_rels d ON d.key = r.key
        WHERE r.instance_id = p_instance AND r.rule = 'user_is_person'),
    need AS (
        SELECT d.*, p.id AS prev_id, p.class AS prev_class, p.display_name AS prev_display_name,
               p.from_key AS prev_from_key, p.to_key AS prev_to_key, p.type AS prev_type, p.properties AS prev_properties,
               p.run_id AS prev_run_id
        FROM sg_rule_rels d LEFT JOIN prev p ON p.key = d.key
        WHERE p.id IS NULL
           OR (p.type, p.from_key, p.to_key, p.from_id, p.to_id, p.properties)
              IS DISTINCT FROM (d.type, d.user_key, d.person_key, d.user_id, d.person_id, d.properties)),
    stated AS (
        INSERT INTO change_log_entry (run_id, instance_id, at, kind, change, key, type)
        SELECT n.prev_run_id, p_instance, b.loaded_at, 'relationship', 'added', n.key, n.prev_type
        FROM need n JOIN sync_run b ON b.id = n.prev_run_id AND b.baseline
        WHERE n.prev_id IS NOT NULL
          AND (n.prev_from_key, n.prev_to_key, n.prev_type, n.prev_properties) IS DISTINCT FROM (n.user_key, n.person_key, n.type, n.properties)),
    logged AS (
        INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type, before, after)
        SELECT p_run, p_instance, 'relationship',
               CASE WHEN n.prev_id IS NULL THEN 'added' ELSE 'changed' END, n.key, n.type,
               CASE WHEN n.prev_id IS NULL THEN NULL
                    ELSE relationship_doc(n.prev_class, n.prev_display_name, n.prev_from_key, n.prev_to_key, NULL, n.prev_properties) END,
               CASE WHEN n.prev_id IS NULL THEN NULL
                    ELSE relationship_doc('IS', 'IS', n.user_key, n.person_key, NULL, n.properties) END
        FROM need n
        WHERE n.prev_id IS NULL
           OR (n.prev_from_key, n.prev_to_key, n.prev_type, n.prev_properties) IS DISTINCT FROM (n.user_key, n.person_key, n.type, n.properties)
        RETURNING change),
    up AS (
        INSERT INTO relationship AS r (instance_id, key, type, class, display_name, from_key, to_key,
                                       from_id, to_id, properties, rule, first_seen, modified_at, run_id)
        SELECT p_instance, n.key, n.type, 'IS', 'IS', n.user_key, n.person_key, n.user_id, n.person_id,
               n.properties, 'user_is_person', now(), now(), p_run
        FROM need n
        ON CONFLICT (instance_id, key) DO UPDATE SET
            type = excluded.type, from_key = excluded.from_key, to_key = excluded.to_key,
            from_id = excluded.from_id, to_id = excluded.to_id, properties = excluded.properties,
            modified_at = now(),
            -- the run of the last logged change (a new target id alone is none)
            run_id = CASE WHEN (r.from_key, r.to_key, r.type, r.properties)
                    IS DISTINCT FROM (excluded.from_key, excluded.to_key, excluded.type, excluded.properties)
                THEN excluded.run_id ELSE r.run_id END
        RETURNING 1)
    SELECT count(*) FILTER (WHERE change = 'added'), count(*) FILTER (WHERE change = 'changed')
    INTO added, changed
    FROM logged;
    RETURN NEXT;
END
$fn$;

-- gc_placeholders() as before, writing change_log_entry; a placeholder a
-- baseline run created (its creation not stored) gets its 'added' row
-- stored before its 'removed' one.
CREATE OR REPLACE FUNCTION gc_placeholders(p_run bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    n bigint;
BEGIN
    PERFORM sg_scratch();
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

-- forget_instance() as before, writing change_log_entry; placeholders go
-- while the instance's runs still exist (a baseline's are stated first).
CREATE OR REPLACE FUNCTION forget_instance(p_integration text, p_name text) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    v_id bigint;
BEGIN
    SELECT id INTO v_id FROM instance WHERE integration = p_integration AND name = p_name AND id <> 0;
    IF v_id IS NULL THEN
        RETURN 0;
    END IF;
    IF NOT pg_try_advisory_xact_lock(instance_lock_key(v_id)) THEN
        RAISE EXCEPTION 'instance %/% is being synced by another run', p_integration, p_name
            USING ERRCODE = 'lock_not_available';
    END IF;
    PERFORM sg_scratch();
    INSERT INTO pg_temp.sg_gc
    SELECT DISTINCT CASE WHEN r.reverse THEN r.from_id ELSE r.to_id END
    FROM relationship r
    WHERE r.instance_id = v_id AND (r.mapping IS NOT NULL OR r.rule IS NOT NULL);
    UPDATE relationship r SET
        from_id = CASE WHEN f.instance_id = v_id THEN NULL ELSE r.from_id END,
        to_id = CASE WHEN t.instance_id = v_id THEN NULL ELSE r.to_id END,
        mapping_status = CASE WHEN r.mapping IS NOT NULL THEN 'pending' ELSE r.mapping_status END
    FROM relationship x
    LEFT JOIN entity f ON f.id = x.from_id
    LEFT JOIN entity t ON t.id = x.to_id
    WHERE r.id = x.id AND r.instance_id <> v_id
      AND (f.instance_id = v_id OR t.instance_id = v_id);
    DELETE FROM change_log_entry WHERE instance_id = v_id;
    DELETE FROM relationship WHERE instance_id = v_id;
    DELETE FROM entity WHERE instance_id = v_id;
    PERFORM gc_placeholders(NULL);
    DELETE FROM instance WHERE id = v_id; -- cascades to runs and their steps
    RETURN 1;
END
$fn$;
