-- Okta users not mapped to a person: no IS relationship to a Person
-- entity (service, bot and generic accounts, users without an email).
SELECT u.key AS user_id,
       u.display_name AS login,
       u.properties->>'email' AS email,
       u.properties->>'userType' AS user_type,
       u.properties->>'status' AS status
FROM entity u
WHERE u.type = 'okta_user'
  AND NOT EXISTS (
      SELECT 1
      FROM relationship r
      JOIN entity p ON p.id = r.to_id AND p.classes @> '{Person}'
      WHERE r.from_id = u.id AND r.class = 'IS')
ORDER BY login;
