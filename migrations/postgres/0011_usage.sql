-- Usage per environment and day (days since the epoch, UTC): counters, and the subjects active that
-- day (monthly actives are the distinct subjects of the month's days). Nodes count in memory and add
-- their counts here at each flush.
CREATE TABLE usage_counts (
    env_id TEXT NOT NULL REFERENCES environments (id),
    day BIGINT NOT NULL,
    metric TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (env_id, day, metric)
);

CREATE TABLE usage_subjects (
    env_id TEXT NOT NULL REFERENCES environments (id),
    day BIGINT NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (env_id, day, subject)
);
