-- The lifecycle of zones and admin credentials: admin tokens that only read, that expire, that are
-- revoked; and an installation-level record of every project and environment deleted (their own
-- audit logs go with them).
ALTER TABLE admin_tokens ADD COLUMN access TEXT NOT NULL DEFAULT 'write';
ALTER TABLE admin_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE admin_tokens ADD COLUMN revoked_at INTEGER;

CREATE TABLE deletions (
    deletion_id TEXT PRIMARY KEY,
    what TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT,
    env_id TEXT,
    actor TEXT NOT NULL,
    deleted_at INTEGER NOT NULL,
    -- How many rows of each table went with it (JSON).
    removed TEXT NOT NULL
);
