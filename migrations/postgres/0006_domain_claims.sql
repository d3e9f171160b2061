-- A host may be claimed (pending) by several environments at once, so a claim reveals nothing about
-- another zone and squats nothing; the first to prove ownership activates it, and a host is active
-- in at most one environment.
ALTER TABLE domains DROP CONSTRAINT domains_pkey;
ALTER TABLE domains ADD PRIMARY KEY (host, env_id);
CREATE UNIQUE INDEX domains_active_host ON domains (host) WHERE state = 'active';
