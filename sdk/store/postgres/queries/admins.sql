-- Admins of instance :'integration'/:'instance': users holding an Okta
-- admin role, directly or through a group that holds it. One row per user,
-- role and way. (Drop the role.type condition to include every
-- AccessRole, e.g. mapped AWS roles.)
WITH inst AS (
    SELECT id FROM instance WHERE integration = :'integration' AND name = :'instance'
)
SELECT u.key AS user_id,
       u.display_name AS login,
       role.key AS role_id,
       role.display_name AS role,
       'direct' AS via
FROM inst
JOIN relationship r ON r.instance_id = inst.id AND r.class = 'ASSIGNED'
JOIN entity u ON u.id = r.from_id AND u.classes @> '{User}'
JOIN entity role ON role.id = r.to_id AND role.type = 'okta_role'
UNION
SELECT u.key, u.display_name, role.key, role.display_name, 'group ' || g.display_name
FROM inst
JOIN relationship gr ON gr.instance_id = inst.id AND gr.class = 'ASSIGNED'
JOIN entity g ON g.id = gr.from_id AND g.classes @> '{UserGroup}'
JOIN entity role ON role.id = gr.to_id AND role.type = 'okta_role'
JOIN relationship m ON m.from_id = g.id AND m.instance_id = inst.id AND m.class = 'HAS'
JOIN entity u ON u.id = m.to_id AND u.classes @> '{User}'
ORDER BY login, role, via;
