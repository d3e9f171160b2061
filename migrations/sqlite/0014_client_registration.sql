-- Dynamic client registration (RFC 7591, RFC 7592): initial access tokens per environment (stored
-- as digests, with an optional expiry and number of uses, revocable), and the registration access
-- token of each client registered that way (its digest; NULL for clients an admin registered).
CREATE TABLE registration_tokens (
    env_id TEXT NOT NULL REFERENCES environments (id),
    token_id TEXT NOT NULL,
    token_digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER,
    PRIMARY KEY (env_id, token_id)
);
CREATE UNIQUE INDEX registration_tokens_by_digest ON registration_tokens (env_id, token_digest);

ALTER TABLE clients ADD COLUMN registration_digest TEXT;
