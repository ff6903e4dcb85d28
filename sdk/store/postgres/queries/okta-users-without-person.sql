-- Okta users of instance :'integration'/:'instance' not mapped to a
-- person: no IS relationship to a Person entity (service, bot and generic
-- accounts, users without an email).
SELECT u.key AS user_id,
       u.display_name AS login,
       u.properties->>'email' AS email,
       u.properties->>'userType' AS user_type,
       u.properties->>'status' AS status
FROM instance i
JOIN entity u ON u.instance_id = i.id AND u.type = 'okta_user'
WHERE i.integration = :'integration' AND i.name = :'instance'
  AND NOT EXISTS (
      SELECT 1
      FROM relationship r
      JOIN entity p ON p.id = r.to_id AND p.classes @> '{Person}'
      WHERE r.from_id = u.id AND r.instance_id = u.instance_id AND r.class = 'IS')
ORDER BY login;
