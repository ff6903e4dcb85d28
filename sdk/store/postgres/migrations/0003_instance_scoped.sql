-- stepgraph PostgreSQL graph sink: instances that never wait on each other.
--
-- * No schema-wide lock any more: a load and its after_sync() touch the rows
--   of their own instance (plus placeholder entities of instance 0, which
--   are shared and protected by row locks), so runs of different instances
--   never wait for each other.
-- * Unchanged objects are not rewritten: the per-row last_seen and
--   generation columns go. An object of an instance is in the instance's
--   last loaded collection unless missing_since is set (its type was
--   partial in a run that did not have it, so it was kept). doc_hash (a
--   SHA-256 prefix of the object as collected) lets the loader skip
--   unchanged objects without sending them. run_id is now the run that
--   last added or changed the row.
-- * Relationships derived by the user -> person rule belong to the user's
--   instance (rule = 'user_is_person'), so they are logged under the run
--   of that instance and removed with it.

ALTER TABLE entity
    DROP COLUMN last_seen,
    DROP COLUMN generation,
    ADD COLUMN doc_hash bytea,
    ADD COLUMN missing_since timestamptz;
ALTER TABLE relationship
    DROP COLUMN last_seen,
    DROP COLUMN generation,
    ADD COLUMN doc_hash bytea,
    ADD COLUMN missing_since timestamptz;

-- No per-row foreign-key checks on the bulk tables (each would look up and
-- lock the parent row for every object loaded): forget_instance() deletes
-- an instance's rows itself.
ALTER TABLE entity DROP CONSTRAINT entity_instance_id_fkey;
ALTER TABLE relationship DROP CONSTRAINT relationship_instance_id_fkey;
ALTER TABLE change_log DROP CONSTRAINT change_log_run_id_fkey;
-- Fewer indexes to maintain per loaded relationship: loads find the
-- instance's rows through (instance_id, key), queries follow from_id/to_id.
DROP INDEX relationship_type;
DROP INDEX relationship_instance_type;

UPDATE relationship r SET instance_id = u.instance_id
FROM entity u
WHERE r.instance_id = 0 AND r.rule = 'user_is_person' AND u.id = r.from_id;
DELETE FROM relationship WHERE instance_id = 0 AND rule = 'user_is_person';

-- Direct relationships with a missing end, re-linked when the entity
-- appears.
CREATE INDEX relationship_dangling ON relationship (instance_id, from_key, to_key)
    WHERE mapping IS NULL AND rule IS NULL AND (from_id IS NULL OR to_id IS NULL);

DROP FUNCTION after_sync(bigint);
DROP FUNCTION forget_instance(text, text);
DROP FUNCTION gc_placeholders(bigint);
DROP FUNCTION map_users_to_people(bigint);
DROP FUNCTION resolve_mapped_relationships(bigint);
DROP FUNCTION resolve_lock_key();

-- The advisory lock key of an instance: held (session level) by the run
-- that syncs it.
CREATE FUNCTION instance_lock_key(p_instance bigint) RETURNS bigint
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT hashtextextended('stepgraph/' || current_schema() || '/sync/' || p_instance::text, 0)
$$;

-- Creates the transaction's scratch tables: sg_gc (placeholder entities
-- this transaction stopped pointing to), sg_want (placeholders wanted) and
-- sg_ph (placeholders found or created, locked).
CREATE FUNCTION sg_scratch() RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS sg_gc (id bigint) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS sg_want (pkey text PRIMARY KEY, type text NOT NULL, classes text[] NOT NULL,
        display_name text, properties jsonb NOT NULL) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS sg_ph (pkey text PRIMARY KEY, id bigint NOT NULL) ON COMMIT DROP;
END
$fn$;

-- Makes sure every placeholder of pg_temp.sg_want exists in instance 0
-- and locks it (FOR KEY SHARE) until the transaction ends, so that a
-- concurrent gc_placeholders() of another instance cannot remove it while
-- this transaction points to it. Fills pg_temp.sg_ph; returns how many
-- placeholders it created (logged as added under p_run).
CREATE FUNCTION ensure_placeholders(p_run bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    created bigint := 0;
    n       bigint;
    want    bigint;
BEGIN
    TRUNCATE pg_temp.sg_ph;
    SELECT count(*) INTO want FROM pg_temp.sg_want;
    FOR attempt IN 1..5 LOOP
        -- Rows this transaction creates need no lock: no other
        -- transaction sees them before it commits.
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
            INSERT INTO pg_temp.sg_ph SELECT key, id FROM ins)
        INSERT INTO change_log (run_id, instance_id, kind, change, key, type)
        SELECT p_run, 0, 'entity', 'added', key, type
        FROM ins;
        GET DIAGNOSTICS n = ROW_COUNT;
        created := created + n;
        -- A placeholder removed by a concurrent gc after the insert saw it
        -- is not returned here: the next attempt creates it again.
        WITH l AS (
            SELECT e.key, e.id FROM entity e
            WHERE e.instance_id = 0
              AND e.key IN (SELECT w.pkey FROM pg_temp.sg_want w
                            WHERE NOT EXISTS (SELECT 1 FROM pg_temp.sg_ph p WHERE p.pkey = w.pkey))
            ORDER BY e.id
            FOR KEY SHARE)
        INSERT INTO pg_temp.sg_ph SELECT key, id FROM l ON CONFLICT DO NOTHING;
        SELECT count(*) INTO n FROM pg_temp.sg_ph;
        EXIT WHEN n >= want;
    END LOOP;
    RETURN created;
END
$fn$;

-- Resolves the mapped relationships of one instance: a relationship whose
-- target matches an entity (of any instance but the mapped pseudo-instance
-- 0) by one of its targetFilterKeys sets points to it; otherwise, unless
-- skipTargetCreation, a placeholder entity is created in instance 0 and
-- the relationship points to it (status 'created') until a real entity
-- appears; with skipTargetCreation it stays 'pending'. Relationships whose
-- target no longer exists become pending again. Only rows of p_instance are
-- written (and placeholders). Returns counts.
CREATE FUNCTION resolve_mapped_relationships(p_run bigint, p_instance bigint)
RETURNS TABLE (resolved bigint, placeholders_created bigint, pointed_at_placeholders bigint, pending bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    ks   jsonb;
    cond text;
    n    bigint;
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
        EXECUTE format($q$
            WITH m AS (
                SELECT DISTINCT ON (r.id) r.id AS rid, e.id AS eid, e.key AS ekey,
                       r.mapping_status AS old_status,
                       CASE WHEN r.reverse THEN r.from_id ELSE r.to_id END AS old_id
                FROM relationship r
                JOIN entity e ON %s
                WHERE r.instance_id = $2 AND r.mapping IS NOT NULL AND r.mapping_status IN ('pending', 'created')
                  AND e.instance_id <> 0
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
        $q$, cond) INTO n USING ks, p_instance;
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

-- The rule "map users to employees" for the users of one instance: every
-- entity of class User with an email maps to a Person of _type employee
-- with that email (case insensitive), except users whose userType is
-- generic, service or bot (case insensitive). A real employee (of any
-- instance) is preferred; a missing person is created as a placeholder
-- entity of instance 0 (key employee:<email>, class Person). The derived
-- relationships (<user _type>_is_employee, class IS, rule =
-- 'user_is_person') belong to the user's instance and are logged under
-- p_run; they follow the users: a user that is removed, loses its email or
-- becomes a service account loses its relationship.
CREATE FUNCTION map_users_to_people(p_run bigint, p_instance bigint)
RETURNS TABLE (users_mapped bigint, people_created bigint, added bigint, changed bigint, removed bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
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
          WHERE x.instance_id = p_instance AND x.key = p_instance || '/' || u.user_key || '|is|employee'
            AND ph.instance_id = 0 AND ph.key = 'employee:' || u.email)
    ORDER BY u.email, u.user_id;
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
    CREATE UNIQUE INDEX ON sg_rule_rels (key);
    ANALYZE sg_rule_rels;
    SELECT count(*) INTO users_mapped FROM sg_rule_rels;

    WITH gone AS (
        DELETE FROM relationship r
        WHERE r.instance_id = p_instance AND r.rule = 'user_is_person'
          AND NOT EXISTS (SELECT 1 FROM sg_rule_rels d WHERE d.key = r.key)
        RETURNING r.*),
    gc AS (
        INSERT INTO pg_temp.sg_gc SELECT to_id FROM gone WHERE to_id IS NOT NULL)
    INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before)
    SELECT p_run, p_instance, 'relationship', 'removed', key, type,
           relationship_doc(class, display_name, from_key, to_key, mapping, properties)
    FROM gone;
    GET DIAGNOSTICS removed = ROW_COUNT;

    INSERT INTO pg_temp.sg_gc
    SELECT r.to_id FROM relationship r JOIN sg_rule_rels d ON d.key = r.key
    WHERE r.instance_id = p_instance AND r.to_id IS DISTINCT FROM d.person_id AND r.to_id IS NOT NULL;

    -- Only new and changed relationships are written (an upsert would
    -- lock every unchanged row).
    WITH prev AS (
        SELECT r.* FROM relationship r JOIN sg_rule_rels d ON d.key = r.key
        WHERE r.instance_id = p_instance),
    need AS (
        SELECT d.*, p.id AS prev_id, p.class AS prev_class, p.display_name AS prev_display_name,
               p.from_key AS prev_from_key, p.to_key AS prev_to_key, p.type AS prev_type, p.properties AS prev_properties
        FROM sg_rule_rels d LEFT JOIN prev p ON p.key = d.key
        WHERE p.id IS NULL
           OR (p.type, p.from_key, p.to_key, p.from_id, p.to_id, p.properties)
              IS DISTINCT FROM (d.type, d.user_key, d.person_key, d.user_id, d.person_id, d.properties)),
    logged AS (
        INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before, after)
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
            modified_at = now(), run_id = excluded.run_id
        RETURNING 1)
    SELECT count(*) FILTER (WHERE change = 'added'), count(*) FILTER (WHERE change = 'changed')
    INTO added, changed
    FROM logged;
    RETURN NEXT;
END
$fn$;

-- Removes the placeholder entities (instance 0) this transaction stopped
-- pointing to (pg_temp.sg_gc) when nothing else points to them. The
-- candidates are locked first, so a concurrent transaction that points to
-- one (and holds it FOR KEY SHARE) commits before the check, which then
-- sees its relationship.
CREATE FUNCTION gc_placeholders(p_run bigint) RETURNS bigint
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
        RETURNING e.key, e.type, e.classes, e.display_name, e.properties)
    INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before)
    SELECT p_run, 0, 'entity', 'removed', key, type, entity_doc(classes, display_name, properties)
    FROM gone;
    GET DIAGNOSTICS n = ROW_COUNT;
    TRUNCATE pg_temp.sg_gc;
    RETURN n;
END
$fn$;

-- What every sync of an instance runs after its load, in one transaction,
-- while it holds the instance's lock: resolve its mapped relationships,
-- apply the user -> person rule to its users, drop the placeholders it no
-- longer points to. Returns the counts.
CREATE FUNCTION after_sync(p_run bigint, p_instance bigint) RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    m jsonb;
    p jsonb;
    g bigint;
BEGIN
    SELECT to_jsonb(x) INTO m FROM resolve_mapped_relationships(p_run, p_instance) x;
    SELECT to_jsonb(x) INTO p FROM map_users_to_people(p_run, p_instance) x;
    g := gc_placeholders(p_run);
    RETURN jsonb_build_object('mapped', m, 'userIsPerson', p, 'placeholdersRemoved', g);
END
$fn$;

-- Deletes an instance with its entities, relationships, runs and change
-- log; relationships of other instances that pointed to its entities lose
-- that end (mapped ones become pending again, and are re-resolved by their
-- own instance's next sync); placeholders only it pointed to go. Refused
-- while a run of the instance holds its lock. Returns 1 when the instance
-- existed.
CREATE FUNCTION forget_instance(p_integration text, p_name text) RETURNS bigint
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
    DELETE FROM change_log WHERE instance_id = v_id;
    DELETE FROM relationship WHERE instance_id = v_id;
    DELETE FROM entity WHERE instance_id = v_id;
    DELETE FROM instance WHERE id = v_id; -- cascades to runs and their steps
    PERFORM gc_placeholders(NULL);
    RETURN 1;
END
$fn$;
