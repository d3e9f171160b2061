-- Events are written in the transaction of the change they report (a transactional outbox), with
-- one delivery per subscribed endpoint; the workers of every node claim due deliveries by lease.
CREATE TABLE webhook_endpoints (
    env_id TEXT NOT NULL REFERENCES environments (id),
    endpoint_id TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- The subscribed types and families as ",user.*,signin.succeeded," (",*," for all).
    events TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    -- Signing secrets, sealed under the KEK; the previous one signs beside the new one for a while.
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_success_at INTEGER,
    last_failure_at INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (env_id, endpoint_id)
);

CREATE TABLE events (
    env_id TEXT NOT NULL REFERENCES environments (id),
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (env_id, event_id)
);
CREATE INDEX events_by_time ON events (env_id, created_at);

CREATE TABLE webhook_deliveries (
    env_id TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    replay_of TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    PRIMARY KEY (env_id, delivery_id),
    -- A delivery goes with its endpoint or its event, and its attempts with it.
    FOREIGN KEY (env_id, endpoint_id) REFERENCES webhook_endpoints (env_id, endpoint_id) ON DELETE CASCADE,
    FOREIGN KEY (env_id, event_id) REFERENCES events (env_id, event_id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (env_id, endpoint_id, created_at);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (env_id, event_id);

CREATE TABLE webhook_attempts (
    env_id TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT,
    -- The first 4 KiB of the response body.
    response TEXT,
    succeeded INTEGER NOT NULL,
    PRIMARY KEY (env_id, delivery_id, attempt),
    FOREIGN KEY (env_id, delivery_id) REFERENCES webhook_deliveries (env_id, delivery_id) ON DELETE CASCADE
);
