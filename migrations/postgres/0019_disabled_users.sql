-- A disabled user cannot sign in; disabling ended their sessions and revoked their grants.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
