-- Codes and grants (so their refresh tokens) remember the issuer they were minted under: a code
-- issued via a custom domain is redeemed there only. '' marks rows minted before the binding.
ALTER TABLE authorization_codes ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN issuer TEXT NOT NULL DEFAULT '';

-- A refresh family's absolute end: rotation never carries a token past it.
ALTER TABLE grants ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE grants SET expires_at = created_at + 7776000;
ALTER TABLE environments ADD COLUMN refresh_family_ttl INTEGER NOT NULL DEFAULT 7776000;
