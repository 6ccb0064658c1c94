-- The change feed (projection `feed`) and webhook endpoints with their delivery log.

-- One row per fact (one per domain event), keyed for per-cooperative paging by log position.
-- fact_json is the full fact; what a role may see of it is decided when it is read.
-- accounts: the entry's account numbers, space-separated with a leading and trailing space.
CREATE TABLE feed_facts (
    coop TEXT NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    fact_group TEXT NOT NULL,
    accounts TEXT NOT NULL,
    fact_json TEXT NOT NULL,
    PRIMARY KEY (coop, position)
);

-- Webhook endpoints: configuration, not domain events. The secret signs deliveries, so it is
-- kept as is (it cannot be hashed); it is shown once, at creation, and never returned again.
-- cursor: every fact up to this log position is delivered (or not wanted by this endpoint).
-- A lease (lease_owner, lease_until) gives one worker the endpoint while it delivers: one fact
-- in flight per endpoint, across every server process. Times are Unix seconds.
CREATE TABLE webhook_endpoints (
    endpoint_id TEXT PRIMARY KEY,
    coop TEXT NOT NULL,
    url TEXT NOT NULL,
    kinds_json TEXT NOT NULL,
    role TEXT NOT NULL,
    secret TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    cursor BIGINT NOT NULL,
    failures INTEGER NOT NULL,
    failing_since DOUBLE PRECISION,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    last_error TEXT,
    paused_at DOUBLE PRECISION,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_due ON webhook_endpoints (status, next_attempt_at);
CREATE INDEX webhook_endpoints_by_coop ON webhook_endpoints (coop);

-- One row per (endpoint, fact) attempted: attempts, outcome, last HTTP status and error.
CREATE TABLE webhook_deliveries (
    endpoint_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_status_code INTEGER,
    last_error TEXT,
    first_attempt_at DOUBLE PRECISION NOT NULL,
    last_attempt_at DOUBLE PRECISION NOT NULL,
    delivered_at DOUBLE PRECISION,
    PRIMARY KEY (endpoint_id, position)
);
