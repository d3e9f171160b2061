-- A host may be claimed (pending) by several environments at once, so a claim reveals nothing about
-- another zone and squats nothing; the first to prove ownership activates it, and a host is active
-- in at most one environment. SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE domain_claims (
    host TEXT NOT NULL,
    env_id TEXT NOT NULL REFERENCES environments(id),
    challenge TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    verified_by TEXT,
    tls_cert_file TEXT,
    tls_key_file TEXT,
    created_at INTEGER NOT NULL,
    verified_at INTEGER,
    PRIMARY KEY (host, env_id)
);
INSERT INTO domain_claims (host, env_id, challenge, state, verified_by, tls_cert_file, tls_key_file,
    created_at, verified_at)
    SELECT host, env_id, challenge, state, verified_by, tls_cert_file, tls_key_file, created_at,
        verified_at FROM domains;
DROP TABLE domains;
ALTER TABLE domain_claims RENAME TO domains;
CREATE INDEX domains_env ON domains (env_id);
CREATE UNIQUE INDEX domains_active_host ON domains (host) WHERE state = 'active';
