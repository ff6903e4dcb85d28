-- What changed in the last loaded run of instance :'integration'/:'instance':
-- added, changed and removed objects with their properties before and
-- after. Rows of instance 0 are the placeholder entities the run created
-- or removed. An added row stores no after document: it is the object's
-- current one (the last run is the latest).
WITH last AS (
    SELECT r.id
    FROM sync_run r
    JOIN instance i ON i.id = r.instance_id
    WHERE i.integration = :'integration' AND i.name = :'instance'
      AND r.status IN ('success', 'partial')
    ORDER BY r.id DESC
    LIMIT 1
)
SELECT c.change, c.kind, c.type, c.key, c.instance_id, c.before,
       coalesce(c.after,
                entity_doc(e.classes, e.display_name, e.properties),
                relationship_doc(r.class, r.display_name, r.from_key, r.to_key, r.mapping, r.properties)) AS after
FROM change_log c
JOIN last ON last.id = c.run_id
LEFT JOIN entity e ON c.change = 'added' AND c.kind = 'entity'
                  AND e.instance_id = c.instance_id AND e.key = c.key
LEFT JOIN relationship r ON c.change = 'added' AND c.kind = 'relationship'
                        AND r.instance_id = c.instance_id AND r.key = c.key
ORDER BY c.change, c.kind, c.type, c.key;
