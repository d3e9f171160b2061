-- A disabled user cannot sign in; disabling ended their sessions and revoked their grants.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
-- Created by the person through sign-up, not by an admin or as a fixture.
ALTER TABLE users ADD COLUMN signed_up INTEGER NOT NULL DEFAULT 0;
