-- stepgraph PostgreSQL graph sink: after_sync skips the user -> person rule
-- when it cannot change anything.
--
-- instance.after_sync_run_id is the last run whose after_sync succeeded.
-- A sync whose load changed no entity of the instance, after a run whose
-- after_sync succeeded, in a database without real employee entities (no
-- HR-like integration), leaves the rule's result as it is: after_sync is
-- then called with p_people = false and only resolves mapped
-- relationships.
ALTER TABLE instance ADD COLUMN after_sync_run_id bigint;

DROP FUNCTION after_sync(bigint, bigint);
CREATE FUNCTION after_sync(p_run bigint, p_instance bigint, p_people boolean DEFAULT true) RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
    m jsonb;
    p jsonb;
    g bigint;
BEGIN
    SELECT to_jsonb(x) INTO m FROM resolve_mapped_relationships(p_run, p_instance) x;
    IF p_people THEN
        SELECT to_jsonb(x) INTO p FROM map_users_to_people(p_run, p_instance) x;
    ELSE
        p := jsonb_build_object('skipped', true);
    END IF;
    g := gc_placeholders(p_run);
    UPDATE instance SET after_sync_run_id = p_run WHERE id = p_instance AND p_run IS NOT NULL;
    RETURN jsonb_build_object('mapped', m, 'userIsPerson', p, 'placeholdersRemoved', g);
END
$fn$;
