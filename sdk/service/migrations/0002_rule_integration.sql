-- A built-in rule registered by an integration (service.Definition.Rules)
-- runs for that integration's instances only; NULL: every instance (the
-- SDK's generic rules and operators' rules).
ALTER TABLE alert_rule ADD COLUMN integration text;
