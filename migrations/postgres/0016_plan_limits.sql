-- Plan limits per project (NULL: no limit): monthly active users of its live environments, users
-- of its test environments, and how many environments it may have.
ALTER TABLE projects ADD COLUMN max_live_mau BIGINT;
ALTER TABLE projects ADD COLUMN max_test_users BIGINT;
ALTER TABLE projects ADD COLUMN max_environments BIGINT;
