-- An active user without MFA (mfaEnabled false) was newly assigned to an
-- application, in the runs being evaluated. Users whose MFA is unknown
-- (factors not read) do not match.
SELECT c.key AS key,
       c.type AS type,
       'user ' || u.display_name || ' without MFA added to application ' || app.display_name AS summary,
       c.run_id AS run_id
FROM change_log c
JOIN relationship r ON r.instance_id = c.instance_id AND r.key = c.key
JOIN entity u ON u.id = r.from_id AND u.classes @> '{User}'
JOIN entity app ON app.id = r.to_id AND app.classes @> '{Application}'
WHERE c.instance_id = @instance_id
  AND c.run_id > @after_run AND c.run_id <= @run
  AND c.kind = 'relationship' AND c.change = 'added'
  AND r.class = 'ASSIGNED'
  AND u.properties->>'active' = 'true'
  AND u.properties->>'mfaEnabled' = 'false'
