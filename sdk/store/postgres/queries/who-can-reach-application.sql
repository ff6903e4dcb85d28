-- Who can reach application :'app' (its _key, name or label), directly or
-- through a group it is assigned to. One row per user; "access" lists how.
WITH app AS (
    SELECT id FROM entity
    WHERE classes @> '{Application}'
      AND (key = :'app' OR properties->>'name' = :'app' OR display_name = :'app')
), access AS (
    SELECT r.from_id AS user_id, 'direct' AS via
    FROM relationship r
    JOIN app ON app.id = r.to_id
    WHERE r.class = 'ASSIGNED'
  UNION
    SELECT m.to_id, 'group ' || g.display_name
    FROM relationship a
    JOIN app ON app.id = a.to_id
    JOIN entity g ON g.id = a.from_id AND g.classes @> '{UserGroup}'
    JOIN relationship m ON m.from_id = g.id AND m.class = 'HAS'
    WHERE a.class = 'ASSIGNED'
)
SELECT u.key AS user_id,
       u.display_name AS login,
       u.properties->>'email' AS email,
       u.properties->>'status' AS status,
       string_agg(access.via, ', ' ORDER BY access.via) AS access
FROM access
JOIN entity u ON u.id = access.user_id AND u.classes @> '{User}'
GROUP BY u.id
ORDER BY login;
