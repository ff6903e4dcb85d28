-- An admin role was newly assigned to a user or a group (Okta: okta_user or
-- okta_user_group ASSIGNED okta_role), in the runs being evaluated.
SELECT c.key AS key,
       c.type AS type,
       'admin role ' || role.display_name || ' assigned to ' || coalesce(who.display_name, r.from_key) AS summary,
       c.run_id AS run_id
FROM change_log c
JOIN relationship r ON r.instance_id = c.instance_id AND r.key = c.key
JOIN entity role ON role.id = r.to_id AND role.type = 'okta_role'
LEFT JOIN entity who ON who.id = r.from_id
WHERE c.instance_id = @instance_id
  AND c.run_id > @after_run AND c.run_id <= @run
  AND c.kind = 'relationship' AND c.change = 'added'
  AND r.class = 'ASSIGNED'
