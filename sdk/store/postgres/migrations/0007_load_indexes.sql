-- stepgraph PostgreSQL graph sink: cheaper index upkeep for loads, and
-- after-sync lookups that stay inside the instance.
--
-- * entity_email indexed the email of every entity that has one (every
--   Okta user), but only employees are ever looked up by email (the
--   user -> person rule): a first load of 100,000 users no longer
--   maintains 100,000 entries nobody reads.
-- * The partial indexes of rule and mapped relationships lead with the
--   instance, so after_sync() reads only its instance's rule and mapped
--   relationships (on a first load: none) instead of scanning the
--   instance's relationships or every instance's mapped ones.
-- * map_users_to_people() reaches the instance's rule relationships
--   through that index, and sorts and hashes its 100,000-user sets in
--   memory (work_mem 64MB for the function) instead of on disk.

DROP INDEX entity_email;
CREATE INDEX entity_employee_email ON entity (lower(properties ->> 'email'))
    WHERE type = 'employee' AND properties ? 'email';

DROP INDEX relationship_rule;
CREATE INDEX relationship_rule ON relationship (instance_id, key) WHERE rule IS NOT NULL;
DROP INDEX relationship_mapping;
CREATE INDEX relationship_mapping ON relationship (instance_id, mapping_status) WHERE mapping IS NOT NULL;

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
    WHERE r.instance_id = p_instance AND r.rule = 'user_is_person' AND r.to_id IS DISTINCT FROM d.person_id AND r.to_id IS NOT NULL;

    -- Only new and changed relationships are written (an upsert would
    -- lock every unchanged row).
    WITH prev AS (
        SELECT r.* FROM relationship r JOIN sg_rule_rels d ON d.key = r.key
        WHERE r.instance_id = p_instance AND r.rule = 'user_is_person'),
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
