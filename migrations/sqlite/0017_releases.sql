-- Releases: each configuration applied to an environment (a file, a promotion, a rollback), numbered
-- per environment. The number is the key, so of two applies planned against the same release only
-- one can write the next; the configuration it made is kept for a rollback.
CREATE TABLE releases (
    env_id TEXT NOT NULL REFERENCES environments(id),
    number BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    -- What it came from: `file`, `promotion from acme/sandbox`, `rollback to 3`.
    source TEXT NOT NULL,
    -- The changes it made (JSON) and the configuration it left (JSON).
    changes TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (env_id, number)
);
