-- stepgraph service: the instance registry, run history and alerts.
--
-- Applied by service.Migrate in one transaction under an advisory lock,
-- after River's own migrations (rivermigrate) in the same transaction, with
-- search_path set to the graph's schema (default "stepgraph").

-- A configured instance: one account of one integration, collected on a
-- schedule by the workers. Never holds a secret: secrets maps a config
-- field to a reference (env:NAME or file:PATH) resolved on the worker.
CREATE TABLE service_instance (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text        NOT NULL UNIQUE,
    description      text        NOT NULL DEFAULT '',
    integration      text        NOT NULL,
    -- NULL: polling DISABLED (runs only on `instances run`)
    interval_seconds bigint      CHECK (interval_seconds IS NULL OR interval_seconds > 0),
    config           jsonb       NOT NULL DEFAULT '{}',
    secrets          jsonb       NOT NULL DEFAULT '{}',
    tag_account_name boolean     NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- the last sync_run id whose changes the alert rules have seen
    alerts_run_id    bigint      NOT NULL DEFAULT 0,
    -- when the token expiry guard last warned about this instance
    expiry_warned_at timestamptz
);

-- One attempt of a collection job of an instance.
CREATE TABLE service_run (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id   bigint      NOT NULL REFERENCES service_instance (id) ON DELETE CASCADE,
    job_id        bigint      NOT NULL,
    attempt       integer     NOT NULL,
    worker        text        NOT NULL,
    -- running; success / partial (loaded); failed (nothing loaded);
    -- busy (another run held the instance); interrupted (worker stopping:
    -- nothing loaded, the job is released); abandoned (the worker died).
    status        text        NOT NULL CHECK (status IN ('running', 'success', 'partial', 'failed', 'busy', 'interrupted', 'abandoned')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    sync_run_id   bigint,
    entities      bigint      NOT NULL DEFAULT 0,
    relationships bigint      NOT NULL DEFAULT 0,
    added         bigint      NOT NULL DEFAULT 0,
    changed       bigint      NOT NULL DEFAULT 0,
    removed       bigint      NOT NULL DEFAULT 0,
    error         text
);
CREATE INDEX service_run_instance ON service_run (instance_id, id DESC);

-- A named SQL rule over the graph and the change log.
CREATE TABLE alert_rule (
    name        text PRIMARY KEY,
    description text        NOT NULL DEFAULT '',
    query       text        NOT NULL,
    builtin     boolean     NOT NULL DEFAULT false,
    -- 'log' or a webhook URL (http:// or https://)
    destination text        NOT NULL DEFAULT 'log',
    enabled     boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A match that fired: at most one per rule, instance and object.
CREATE TABLE alert_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule         text        NOT NULL,
    instance_id  bigint      NOT NULL REFERENCES service_instance (id) ON DELETE CASCADE,
    object_key   text        NOT NULL,
    object_type  text        NOT NULL,
    summary      text        NOT NULL,
    sync_run_id  bigint,
    fired_at     timestamptz NOT NULL DEFAULT now(),
    destination  text        NOT NULL,
    delivered_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    UNIQUE (rule, instance_id, object_key)
);
