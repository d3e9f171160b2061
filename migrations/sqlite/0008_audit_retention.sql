-- Pruning old entries moves a chain's base: the last pruned entry's sequence number and hash, from
-- which the remaining entries link (an audit.pruned entry in the chain records each move).
ALTER TABLE audit_heads ADD COLUMN base_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_heads ADD COLUMN base_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';
