-- Chains are linked with an HMAC under a key derived from the KEK. Chains written before are marked
-- unkeyed here; a starting node verifies each one as it was written and relinks it under the key.
ALTER TABLE audit_heads ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;
