-- Operator accounts: users of the installation's operators zone (admin/operators) who sign in to
-- the console through that zone's OIDC flow. Their reach, access, expiry and revocation are an
-- admin-token record that no bearer token opens, held by the operator's subject.
ALTER TABLE admin_tokens ADD COLUMN operator_sub TEXT;
CREATE UNIQUE INDEX admin_tokens_operator ON admin_tokens (operator_sub)
    WHERE operator_sub IS NOT NULL AND revoked_at IS NULL;
