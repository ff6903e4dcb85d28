-- An Okta user of the instance is not mapped to a person (no IS
-- relationship to a Person entity): service, bot and generic accounts and
-- users without an email.
SELECT u.key AS key,
       u.type AS type,
       'Okta user ' || u.display_name || ' is not mapped to a person' AS summary,
       NULL::bigint AS run_id
FROM entity u
WHERE u.instance_id = @instance_id
  AND u.type = 'okta_user'
  AND NOT EXISTS (
      SELECT 1
      FROM relationship r
      JOIN entity p ON p.id = r.to_id AND p.classes @> '{Person}'
      WHERE r.from_id = u.id AND r.class = 'IS')
