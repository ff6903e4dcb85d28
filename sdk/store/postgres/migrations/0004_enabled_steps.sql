-- stepgraph PostgreSQL graph sink: the steps that ever ran for an instance.
--
-- A step that succeeded in some loaded run of the instance and is disabled
-- in a later one (e.g. a source switched off) leaves the properties it
-- computes unknown in that run: the loader keeps their stored values
-- instead of logging every object as changed.
ALTER TABLE instance ADD COLUMN enabled_steps text[] NOT NULL DEFAULT '{}';
