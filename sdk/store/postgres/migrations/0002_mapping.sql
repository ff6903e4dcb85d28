-- stepgraph PostgreSQL graph sink: mapped relationships and mapping rules,
-- resolved inside the database.
--
-- Every function here runs with the sink's schema as search_path (SET
-- search_path FROM CURRENT captures it at migration time) and takes the
-- schema's "resolve" advisory lock, so resolutions never run concurrently
-- with each other nor with a load (loads take the same lock shared).

CREATE INDEX relationship_mapping ON relationship (mapping_status) WHERE mapping IS NOT NULL;

-- The advisory lock key that serialises resolution against loads.
CREATE FUNCTION resolve_lock_key() RETURNS bigint
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT hashtextextended('stepgraph/' || current_schema() || '/resolve', 0)
$$;

-- The SQL condition (over r: relationship, e: entity) that matches a
-- mapped relationship's targetEntity against an entity by one set of
-- targetFilterKeys, e.g. ["_type","_key"] or ["_type","email"].
CREATE FUNCTION mapping_match_condition(keyset jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k     text;
    parts text[] := '{}';
BEGIN
    IF jsonb_typeof(keyset) IS DISTINCT FROM 'array' OR jsonb_array_length(keyset) = 0 THEN
        RETURN NULL;
    END IF;
    FOR k IN SELECT jsonb_array_elements_text(keyset) LOOP
        IF k = '_type' THEN
            parts := array_append(parts, 'e.type = r.mapping->''targetEntity''->>''_type''');
        ELSIF k = '_key' THEN
            parts := array_append(parts, 'e.key = r.mapping->''targetEntity''->>''_key''');
        ELSIF k = '_class' THEN
            parts := array_append(parts, '(cardinality(jsonb_text_array(r.mapping->''targetEntity''->''_class'')) > 0 AND e.classes @> jsonb_text_array(r.mapping->''targetEntity''->''_class''))');
        ELSIF k = 'displayName' THEN
            parts := array_append(parts, 'e.display_name = r.mapping->''targetEntity''->>''displayName''');
        ELSE
            -- jsonb equality: hash-joinable, numbers compare by value
            parts := array_append(parts, format(
                '(e.properties->%1$L = r.mapping->''targetEntity''->%1$L AND jsonb_typeof(e.properties->%1$L) <> ''null'')', k));
        END IF;
    END LOOP;
    RETURN array_to_string(parts, ' AND ');
END
$$;

-- The key of the placeholder entity created for a mapped relationship's
-- target: the target's _key when it has one, else <_type>:<md5 of the
-- values of its first filter-key set>.
CREATE FUNCTION placeholder_key(mapping jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(
        mapping->'targetEntity'->>'_key',
        (mapping->'targetEntity'->>'_type') || ':' || md5(coalesce((
            SELECT jsonb_object_agg(k, mapping->'targetEntity'->k)
            FROM jsonb_array_elements_text(mapping->'targetFilterKeys'->0) AS k
            WHERE k <> '_type')::text, '')))
$$;

-- Resolves mapped relationships of every instance: a relationship whose
-- target matches an entity (of any instance but the mapped pseudo-instance
-- 0) by one of its targetFilterKeys sets points to it; otherwise, unless
-- skipTargetCreation, a placeholder entity is created in instance 0 and
-- the relationship points to it (status 'created') until a real entity
-- appears; with skipTargetCreation it stays 'pending'. Relationships whose
-- target was deleted become pending again. Returns counts.
CREATE FUNCTION resolve_mapped_relationships(p_run bigint DEFAULT NULL)
RETURNS TABLE (resolved bigint, placeholders_created bigint, pointed_at_placeholders bigint, pending bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    ks   jsonb;
    cond text;
    n    bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(resolve_lock_key());
    resolved := 0;

    -- Targets deleted since they were resolved.
    UPDATE relationship r SET mapping_status = 'pending'
    WHERE r.mapping IS NOT NULL AND r.mapping_status IN ('resolved', 'created')
      AND (CASE WHEN r.reverse THEN r.from_id ELSE r.to_id END) IS NULL;

    -- Match against real entities, set by set.
    FOR ks IN
        SELECT DISTINCT x.ks
        FROM relationship r, jsonb_array_elements(r.mapping->'targetFilterKeys') AS x(ks)
        WHERE r.mapping IS NOT NULL AND r.mapping_status IN ('pending', 'created')
        ORDER BY 1
    LOOP
        cond := mapping_match_condition(ks);
        CONTINUE WHEN cond IS NULL;
        EXECUTE format($q$
            WITH m AS (
                SELECT DISTINCT ON (r.id) r.id AS rid, e.id AS eid, e.key AS ekey
                FROM relationship r
                JOIN entity e ON %s
                WHERE r.mapping IS NOT NULL AND r.mapping_status IN ('pending', 'created')
                  AND e.instance_id <> 0
                  AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.mapping->'targetFilterKeys') AS y(ks) WHERE y.ks = $1)
                ORDER BY r.id, e.id)
            UPDATE relationship r SET
                from_id  = CASE WHEN r.reverse THEN m.eid ELSE r.from_id END,
                from_key = CASE WHEN r.reverse THEN m.ekey ELSE r.from_key END,
                to_id    = CASE WHEN r.reverse THEN r.to_id ELSE m.eid END,
                to_key   = CASE WHEN r.reverse THEN r.to_key ELSE m.ekey END,
                mapping_status = 'resolved'
            FROM m
            WHERE r.id = m.rid
        $q$, cond) USING ks;
        GET DIAGNOSTICS n = ROW_COUNT;
        resolved := resolved + n;
    END LOOP;

    -- Create the missing targets.
    WITH want AS (
        SELECT DISTINCT ON (pkey) pkey, t
        FROM (SELECT placeholder_key(r.mapping) AS pkey, r.mapping->'targetEntity' AS t
              FROM relationship r
              WHERE r.mapping IS NOT NULL AND r.mapping_status = 'pending'
                AND NOT coalesce((r.mapping->>'skipTargetCreation')::boolean, false)) s
        WHERE pkey IS NOT NULL AND t->>'_type' IS NOT NULL
        ORDER BY pkey),
    ins AS (
        INSERT INTO entity (instance_id, key, type, classes, display_name, properties,
                            first_seen, last_seen, modified_at, generation, run_id)
        SELECT 0, pkey, t->>'_type', jsonb_text_array(t->'_class'),
               coalesce(t->>'displayName', t->>'name', pkey),
               t - '_key' - '_type' - '_class' - 'displayName',
               now(), now(), now(), 0, p_run
        FROM want
        ON CONFLICT (instance_id, key) DO NOTHING
        RETURNING key, type, classes, display_name, properties)
    INSERT INTO change_log (run_id, instance_id, kind, change, key, type, after)
    SELECT p_run, 0, 'entity', 'added', key, type, entity_doc(classes, display_name, properties)
    FROM ins;
    GET DIAGNOSTICS placeholders_created = ROW_COUNT;

    UPDATE relationship r SET
        from_id  = CASE WHEN r.reverse THEN e.id ELSE r.from_id END,
        from_key = CASE WHEN r.reverse THEN e.key ELSE r.from_key END,
        to_id    = CASE WHEN r.reverse THEN r.to_id ELSE e.id END,
        to_key   = CASE WHEN r.reverse THEN r.to_key ELSE e.key END,
        mapping_status = 'created'
    FROM entity e
    WHERE r.mapping IS NOT NULL AND r.mapping_status = 'pending'
      AND NOT coalesce((r.mapping->>'skipTargetCreation')::boolean, false)
      AND e.instance_id = 0 AND e.key = placeholder_key(r.mapping);
    GET DIAGNOSTICS pointed_at_placeholders = ROW_COUNT;

    SELECT count(*) INTO pending FROM relationship r
    WHERE r.mapping IS NOT NULL AND r.mapping_status = 'pending';
    RETURN NEXT;
END
$fn$;

-- The rule "map users to employees": every entity of class User with an
-- email maps to a Person of _type employee with that email (case
-- insensitive), except users whose userType is generic, service or bot
-- (case insensitive). A missing person is created as a placeholder entity
-- of instance 0 (key employee:<email>, class Person). The derived
-- relationships (<user _type>_is_employee, class IS) belong to instance 0
-- with rule = 'user_is_person'; they follow the users: a user that is
-- removed, loses its email or becomes a service account loses its
-- relationship. Real employee entities (from an HR integration) are
-- preferred over placeholders.
CREATE FUNCTION map_users_to_people(p_run bigint DEFAULT NULL)
RETURNS TABLE (users_mapped bigint, people_created bigint, added bigint, changed bigint, removed bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    PERFORM pg_advisory_xact_lock(resolve_lock_key());

    DROP TABLE IF EXISTS pg_temp.sg_rule_users;
    CREATE TEMP TABLE sg_rule_users ON COMMIT DROP AS
    SELECT u.id AS user_id, u.instance_id, u.key AS user_key, u.type AS user_type,
           lower(btrim(u.properties->>'email')) AS email,
           coalesce(u.properties->>'name', u.display_name) AS name
    FROM entity u
    WHERE u.instance_id <> 0
      AND u.classes @> ARRAY['User']
      AND jsonb_typeof(u.properties->'email') = 'string'
      AND btrim(u.properties->>'email') <> ''
      AND lower(coalesce(u.properties->>'userType', '')) NOT IN ('generic', 'service', 'bot');
    ANALYZE sg_rule_users;

    -- People that do not exist yet.
    WITH missing AS (
        SELECT DISTINCT ON (u.email) u.email, u.name
        FROM sg_rule_users u
        WHERE NOT EXISTS (
            SELECT 1 FROM entity p
            WHERE p.type = 'employee' AND p.properties ? 'email'
              AND lower(p.properties->>'email') = u.email)
        ORDER BY u.email, u.user_id),
    ins AS (
        INSERT INTO entity (instance_id, key, type, classes, display_name, properties,
                            first_seen, last_seen, modified_at, generation, run_id)
        SELECT 0, 'employee:' || email, 'employee', ARRAY['Person'], coalesce(name, email),
               jsonb_strip_nulls(jsonb_build_object('email', email, 'name', name)),
               now(), now(), now(), 0, p_run
        FROM missing
        ON CONFLICT (instance_id, key) DO NOTHING
        RETURNING key, type, classes, display_name, properties)
    INSERT INTO change_log (run_id, instance_id, kind, change, key, type, after)
    SELECT p_run, 0, 'entity', 'added', key, type, entity_doc(classes, display_name, properties)
    FROM ins;
    GET DIAGNOSTICS people_created = ROW_COUNT;

    -- The relationships the rule wants.
    DROP TABLE IF EXISTS pg_temp.sg_rule_rels;
    CREATE TEMP TABLE sg_rule_rels ON COMMIT DROP AS
    SELECT DISTINCT ON (u.user_id)
           u.instance_id || '/' || u.user_key || '|is|employee' AS key,
           u.user_type || '_is_employee' AS type,
           u.user_key, u.user_id, p.key AS person_key, p.id AS person_id,
           jsonb_build_object('email', u.email) AS properties
    FROM sg_rule_users u
    JOIN entity p ON p.type = 'employee' AND p.properties ? 'email'
                 AND lower(p.properties->>'email') = u.email
    ORDER BY u.user_id, (p.instance_id = 0), p.id;
    CREATE UNIQUE INDEX ON sg_rule_rels (key);
    ANALYZE sg_rule_rels;
    SELECT count(*) INTO users_mapped FROM sg_rule_rels;

    WITH gone AS (
        DELETE FROM relationship r
        WHERE r.instance_id = 0 AND r.rule = 'user_is_person'
          AND NOT EXISTS (SELECT 1 FROM sg_rule_rels d WHERE d.key = r.key)
        RETURNING r.*)
    INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before)
    SELECT p_run, 0, 'relationship', 'removed', key, type,
           relationship_doc(class, display_name, from_key, to_key, mapping, properties)
    FROM gone;
    GET DIAGNOSTICS removed = ROW_COUNT;

    WITH prev AS (
        SELECT r.* FROM relationship r JOIN sg_rule_rels d ON d.key = r.key
        WHERE r.instance_id = 0),
    logged AS (
        INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before, after)
        SELECT p_run, 0, 'relationship',
               CASE WHEN p.id IS NULL THEN 'added' ELSE 'changed' END, d.key, d.type,
               CASE WHEN p.id IS NULL THEN NULL
                    ELSE relationship_doc(p.class, p.display_name, p.from_key, p.to_key, NULL, p.properties) END,
               relationship_doc('IS', 'IS', d.user_key, d.person_key, NULL, d.properties)
        FROM sg_rule_rels d LEFT JOIN prev p ON p.key = d.key
        WHERE p.id IS NULL
           OR (p.from_key, p.to_key, p.type, p.properties) IS DISTINCT FROM (d.user_key, d.person_key, d.type, d.properties)
        RETURNING change),
    up AS (
        INSERT INTO relationship AS r (instance_id, key, type, class, display_name, from_key, to_key,
                                       from_id, to_id, properties, rule,
                                       first_seen, last_seen, modified_at, generation, run_id)
        SELECT 0, d.key, d.type, 'IS', 'IS', d.user_key, d.person_key, d.user_id, d.person_id,
               d.properties, 'user_is_person', now(), now(), now(), 0, p_run
        FROM sg_rule_rels d
        ON CONFLICT (instance_id, key) DO UPDATE SET
            type = excluded.type, from_key = excluded.from_key, to_key = excluded.to_key,
            from_id = excluded.from_id, to_id = excluded.to_id, properties = excluded.properties,
            modified_at = now(), run_id = excluded.run_id, last_seen = now()
        WHERE (r.type, r.from_key, r.to_key, r.from_id, r.to_id, r.properties)
              IS DISTINCT FROM (excluded.type, excluded.from_key, excluded.to_key, excluded.from_id, excluded.to_id, excluded.properties)
        RETURNING 1)
    SELECT count(*) FILTER (WHERE change = 'added'), count(*) FILTER (WHERE change = 'changed')
    INTO added, changed
    FROM logged;
    RETURN NEXT;
END
$fn$;

-- Removes placeholder entities (instance 0) that no relationship points to
-- any more, e.g. after their mapped relationships found a real target.
CREATE FUNCTION gc_placeholders(p_run bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(resolve_lock_key());
    WITH gone AS (
        DELETE FROM entity e
        WHERE e.instance_id = 0
          AND NOT EXISTS (SELECT 1 FROM relationship r WHERE r.from_id = e.id)
          AND NOT EXISTS (SELECT 1 FROM relationship r WHERE r.to_id = e.id)
        RETURNING e.key, e.type, e.classes, e.display_name, e.properties)
    INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before)
    SELECT p_run, 0, 'entity', 'removed', key, type, entity_doc(classes, display_name, properties)
    FROM gone;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

-- What runs after each sync: resolve mapped relationships, apply the
-- user -> person rule, drop unreferenced placeholders. Returns the counts.
CREATE FUNCTION after_sync(p_run bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    m jsonb;
    p jsonb;
    g bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(resolve_lock_key());
    SELECT to_jsonb(x) INTO m FROM resolve_mapped_relationships(p_run) x;
    SELECT to_jsonb(x) INTO p FROM map_users_to_people(p_run) x;
    g := gc_placeholders(p_run);
    RETURN jsonb_build_object('mapped', m, 'userIsPerson', p, 'placeholdersRemoved', g);
END
$fn$;

-- Deletes an instance with its entities, relationships, runs and change
-- log; relationships of other instances that pointed to its entities lose
-- that end (mapped ones become pending again). Refused while a run of the
-- instance holds its lock. Returns 1 when the instance existed.
CREATE FUNCTION forget_instance(p_integration text, p_name text) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    v_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(resolve_lock_key());
    SELECT id INTO v_id FROM instance WHERE integration = p_integration AND name = p_name AND id <> 0;
    IF v_id IS NULL THEN
        RETURN 0;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtextextended('stepgraph/' || current_schema() || '/sync/' || v_id::text, 0)) THEN
        RAISE EXCEPTION 'instance %/% is being synced by another run', p_integration, p_name
            USING ERRCODE = 'lock_not_available';
    END IF;
    UPDATE relationship r SET
        from_id = CASE WHEN f.instance_id = v_id THEN NULL ELSE r.from_id END,
        to_id = CASE WHEN t.instance_id = v_id THEN NULL ELSE r.to_id END
    FROM relationship x
    LEFT JOIN entity f ON f.id = x.from_id
    LEFT JOIN entity t ON t.id = x.to_id
    WHERE r.id = x.id AND r.instance_id <> v_id
      AND (f.instance_id = v_id OR t.instance_id = v_id);
    DELETE FROM change_log WHERE instance_id = v_id;
    DELETE FROM instance WHERE id = v_id; -- cascades to entities, relationships, runs
    PERFORM after_sync(NULL);
    RETURN 1;
END
$fn$;
