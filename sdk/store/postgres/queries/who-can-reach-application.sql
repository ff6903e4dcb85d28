-- In instance :'integration'/:'instance': who can reach application
-- :'app' (its _key, name or label), directly or through a group it is
-- assigned to. One row per application and user (two apps with the same label stay
-- apart); "access" lists how. Every join follows ids, inside the instance.
WITH inst AS (
    SELECT id FROM instance WHERE integration = :'integration' AND name = :'instance'
), app AS (
    SELECT e.id, e.key, e.instance_id FROM entity e JOIN inst ON inst.id = e.instance_id
    WHERE e.classes @> '{Application}'
      AND (e.key = :'app' OR e.properties->>'name' = :'app' OR e.display_name = :'app')
), access AS (
    SELECT app.key AS app_id, r.from_id AS user_id, 'direct' AS via
    FROM app
    JOIN relationship r ON r.to_id = app.id AND r.instance_id = app.instance_id
    WHERE r.class = 'ASSIGNED'
  UNION
    SELECT app.key, m.to_id, 'group ' || g.display_name
    FROM app
    JOIN relationship a ON a.to_id = app.id AND a.instance_id = app.instance_id
    JOIN entity g ON g.id = a.from_id AND g.classes @> '{UserGroup}'
    JOIN relationship m ON m.from_id = g.id AND m.instance_id = app.instance_id
    WHERE a.class = 'ASSIGNED' AND m.class = 'HAS'
)
SELECT access.app_id,
       u.key AS user_id,
       u.display_name AS login,
       u.properties->>'email' AS email,
       u.properties->>'status' AS status,
       string_agg(access.via, ', ' ORDER BY access.via) AS access
FROM access
JOIN entity u ON u.id = access.user_id AND u.classes @> '{User}'
GROUP BY access.app_id, u.id
ORDER BY access.app_id, login;
