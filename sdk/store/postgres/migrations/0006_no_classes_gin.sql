-- stepgraph PostgreSQL graph sink: no GIN index on entity.classes.
--
-- Every query of the sink and of docs/postgres.md reaches entities through
-- their instance (instance_id, type), their key or their id, and filters
-- on classes among those rows; the GIN index cost a large share of every
-- entity load to maintain.
DROP INDEX entity_classes;
