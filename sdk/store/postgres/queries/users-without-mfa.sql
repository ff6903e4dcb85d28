-- Active Okta users without MFA, per instance: no active factor
-- (mfaEnabled false), or unknown because their factors could not be read
-- (mfaEnabled absent). Filter on the instance column for one org.
SELECT i.integration || '/' || i.name AS instance,
       u.key AS user_id,
       u.display_name AS login,
       u.properties->>'email' AS email,
       CASE WHEN u.properties ? 'mfaEnabled' THEN 'none' ELSE 'unknown' END AS mfa
FROM entity u
JOIN instance i ON i.id = u.instance_id
WHERE u.type = 'okta_user'
  AND u.properties->>'active' = 'true'
  AND coalesce(u.properties->>'mfaEnabled', 'false') <> 'true'
ORDER BY instance, login;
