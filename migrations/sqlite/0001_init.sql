-- Airlock schema, SQLite dialect. Times are epoch seconds; every per-environment table is keyed by env_id.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('test', 'live')),
    access_token_ttl INTEGER NOT NULL,
    id_token_ttl INTEGER NOT NULL,
    refresh_token_ttl INTEGER NOT NULL,
    code_ttl INTEGER NOT NULL,
    session_ttl INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    env_id TEXT NOT NULL REFERENCES environments(id),
    alg TEXT NOT NULL,
    state TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_key_sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX signing_keys_env ON signing_keys (env_id);

CREATE TABLE clients (
    env_id TEXT NOT NULL REFERENCES environments(id),
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_digest TEXT,
    is_public INTEGER NOT NULL,
    first_party INTEGER NOT NULL,
    redirect_uris TEXT NOT NULL,
    id_token_alg TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (env_id, client_id)
);

CREATE TABLE users (
    env_id TEXT NOT NULL REFERENCES environments(id),
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    name TEXT,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (env_id, user_id),
    UNIQUE (env_id, email)
);

CREATE TABLE sessions (
    env_id TEXT NOT NULL,
    session_digest TEXT NOT NULL,
    user_id TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (env_id, session_digest),
    FOREIGN KEY (env_id, user_id) REFERENCES users(env_id, user_id)
);

CREATE TABLE consents (
    env_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (env_id, user_id, client_id),
    FOREIGN KEY (env_id, user_id) REFERENCES users(env_id, user_id),
    FOREIGN KEY (env_id, client_id) REFERENCES clients(env_id, client_id)
);

-- One grant per redeemed authorization code: what its tokens hang off, so a replay can revoke them all.
CREATE TABLE grants (
    env_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (env_id, grant_id),
    FOREIGN KEY (env_id, client_id) REFERENCES clients(env_id, client_id),
    FOREIGN KEY (env_id, user_id) REFERENCES users(env_id, user_id)
);

CREATE TABLE authorization_codes (
    env_id TEXT NOT NULL,
    code_digest TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER,
    PRIMARY KEY (env_id, code_digest),
    FOREIGN KEY (env_id, client_id) REFERENCES clients(env_id, client_id),
    FOREIGN KEY (env_id, user_id) REFERENCES users(env_id, user_id)
);

CREATE TABLE refresh_tokens (
    env_id TEXT NOT NULL,
    token_digest TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    PRIMARY KEY (env_id, token_digest),
    FOREIGN KEY (env_id, grant_id) REFERENCES grants(env_id, grant_id)
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (env_id, grant_id);

CREATE TABLE admin_tokens (
    token_id TEXT PRIMARY KEY,
    token_digest TEXT NOT NULL UNIQUE,
    env_id TEXT REFERENCES environments(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
