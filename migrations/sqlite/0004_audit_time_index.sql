-- The (env_id, at) index made every audit append touch one more scattered index page per environment
-- in the batch; listings walk the (env_id, seq) key instead and filter on time.
DROP INDEX IF EXISTS audit_log_time;
