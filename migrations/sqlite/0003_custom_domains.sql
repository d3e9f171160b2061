-- Custom domains: a host bound to at most one environment in the whole installation. SQLite dialect.

ALTER TABLE environments ADD COLUMN path_issuer_enabled INTEGER NOT NULL DEFAULT 1;

CREATE TABLE domains (
    host TEXT PRIMARY KEY,
    env_id TEXT NOT NULL REFERENCES environments(id),
    challenge TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    verified_by TEXT,
    tls_cert_file TEXT,
    tls_key_file TEXT,
    created_at INTEGER NOT NULL,
    verified_at INTEGER
);
CREATE INDEX domains_env ON domains (env_id);
