-- No successful collection of the instance for longer than the token expiry
-- guard (25 days; providers such as Okta revoke an API token unused for 30).
-- Fired by the workers' scheduling pass, not by this query (which matches
-- nothing): set its destination or disable it like any rule.
SELECT NULL::text AS key, NULL::text AS type, NULL::text AS summary, NULL::bigint AS run_id
WHERE false
