-- Self-service accounts: the environment's account policy, single-use links (stored as digests),
-- and each environment's mail: captured (test environments: never sent) or queued for SMTP (live
-- ones), written in the transaction of the change that causes it.
ALTER TABLE environments ADD COLUMN signup BIGINT NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN require_verified_email BIGINT NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN password_min_length BIGINT NOT NULL DEFAULT 8;
ALTER TABLE environments ADD COLUMN mail_from TEXT;
ALTER TABLE environments ADD COLUMN product_name TEXT;
ALTER TABLE users ADD COLUMN fixture BIGINT NOT NULL DEFAULT 0;

CREATE TABLE account_links (
    env_id TEXT NOT NULL REFERENCES environments (id),
    link_digest TEXT NOT NULL,
    purpose TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- The address the link was sent to: it works only while the account still has it.
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (env_id, link_digest)
);
CREATE INDEX account_links_by_user ON account_links (env_id, user_id);

CREATE TABLE mail_messages (
    env_id TEXT NOT NULL REFERENCES environments (id),
    message_id TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- Plain in test environments; sealed under the KEK in live ones until sent, then removed.
    text_body TEXT,
    html_body TEXT,
    links TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (env_id, message_id)
);
CREATE INDEX mail_messages_due ON mail_messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX mail_messages_by_time ON mail_messages (env_id, created_at);
