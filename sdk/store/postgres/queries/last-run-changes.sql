-- What changed in the last loaded run of instance :'integration'/:'instance':
-- added, changed and removed objects with their properties before and
-- after. Rows of instance 0 are what the mapping rules derived in that run
-- (placeholder people, user IS person relationships).
WITH last AS (
    SELECT r.id
    FROM sync_run r
    JOIN instance i ON i.id = r.instance_id
    WHERE i.integration = :'integration' AND i.name = :'instance'
      AND r.status IN ('success', 'partial')
    ORDER BY r.id DESC
    LIMIT 1
)
SELECT c.change, c.kind, c.type, c.key, c.instance_id, c.before, c.after
FROM change_log c
JOIN last ON last.id = c.run_id
ORDER BY c.change, c.kind, c.type, c.key;
