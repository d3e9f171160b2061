-- Console sign-ins: the cookie's digest, the admin token it was opened with (checked again on every
-- request, so revoking the token ends its sessions) and the session's CSRF token.
CREATE TABLE console_sessions (
    session_digest TEXT PRIMARY KEY,
    token_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
