-- Custom domains: a host bound to at most one environment in the whole installation. PostgreSQL dialect.

ALTER TABLE environments ADD COLUMN path_issuer_enabled BIGINT NOT NULL DEFAULT 1;

CREATE TABLE domains (
    host TEXT PRIMARY KEY,
    env_id TEXT NOT NULL REFERENCES environments(id),
    challenge TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    verified_by TEXT,
    tls_cert_file TEXT,
    tls_key_file TEXT,
    created_at BIGINT NOT NULL,
    verified_at BIGINT
);
CREATE INDEX domains_env ON domains (env_id);
