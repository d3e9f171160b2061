-- Resource servers (APIs) per environment, the scopes each defines, and which clients may ask for
-- which of them. A code and a refresh token remember the API (RFC 8707 `resource`) they were
-- issued for; NULL is the zone's own userinfo, as before.
CREATE TABLE apis (
    env_id TEXT NOT NULL REFERENCES environments (id),
    api_id TEXT NOT NULL,
    identifier TEXT NOT NULL,
    scopes TEXT NOT NULL,
    -- NULL: the environment's access-token lifetime.
    access_token_ttl BIGINT,
    signing_alg TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (env_id, api_id),
    UNIQUE (env_id, identifier)
);

CREATE TABLE client_api_grants (
    env_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    api_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (env_id, client_id, api_id),
    FOREIGN KEY (env_id, client_id) REFERENCES clients (env_id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (env_id, api_id) REFERENCES apis (env_id, api_id) ON DELETE CASCADE
);
CREATE INDEX client_api_grants_by_api ON client_api_grants (env_id, api_id);

ALTER TABLE authorization_codes ADD COLUMN resource TEXT;
ALTER TABLE refresh_tokens ADD COLUMN resource TEXT;
