-- Token lifecycle, key rotation, per-environment audit log and rate limits. SQLite dialect.

ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';

-- A key's life is decided by time, so every node agrees without coordination: published from
-- created_at, signing from activates_at until retires_at, verifying (still published) until
-- unpublish_at. `state` records the last transition written to the audit log.
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN retires_at INTEGER;
ALTER TABLE signing_keys ADD COLUMN unpublish_at INTEGER;
UPDATE signing_keys SET activates_at = created_at;

-- Revoked JWT access tokens, kept until they would have expired anyway.
CREATE TABLE revoked_access_tokens (
    env_id TEXT NOT NULL REFERENCES environments(id),
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    PRIMARY KEY (env_id, jti)
);

-- One hash chain per environment: each entry carries the previous entry's hash, and audit_heads the
-- last one, so an edited, removed, reordered or truncated entry is detectable.
CREATE TABLE audit_log (
    env_id TEXT NOT NULL REFERENCES environments(id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor TEXT,
    client_id TEXT,
    ip TEXT,
    user_agent TEXT,
    request_id TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (env_id, seq)
);
CREATE INDEX audit_log_time ON audit_log (env_id, at);

CREATE TABLE audit_heads (
    env_id TEXT PRIMARY KEY REFERENCES environments(id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);

-- Rate limits of one environment. 0 means no limit.
ALTER TABLE environments ADD COLUMN token_requests_per_minute INTEGER NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN signin_failures_per_minute INTEGER NOT NULL DEFAULT 30;
ALTER TABLE environments ADD COLUMN lockout_threshold INTEGER NOT NULL DEFAULT 5;

-- Failed sign-ins per account name (existing or not, so a lockout says nothing about existence).
CREATE TABLE signin_failures (
    env_id TEXT NOT NULL REFERENCES environments(id),
    account_digest TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    PRIMARY KEY (env_id, account_digest)
);
