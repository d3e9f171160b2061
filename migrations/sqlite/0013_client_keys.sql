-- Client authentication with JWTs (RFC 7523): how each client authenticates, its public keys
-- (inline or by URL) for private_key_jwt, its secret sealed under the KEK for client_secret_jwt,
-- and the assertion ids already used, each remembered until its assertion expires.
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic';
ALTER TABLE clients ADD COLUMN jwks TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
ALTER TABLE clients ADD COLUMN secret_sealed TEXT;
UPDATE clients SET token_endpoint_auth_method = 'none' WHERE is_public = 1;

CREATE TABLE client_assertions (
    env_id TEXT NOT NULL REFERENCES environments (id),
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (env_id, client_id, jti)
);
CREATE INDEX client_assertions_by_expiry ON client_assertions (expires_at);
