-- Verified email (issue 10, section 1); see ../postgres/0007_verified_email.sql
-- for what each column means.

ALTER TABLE users ADD COLUMN email_verified_at TEXT;

ALTER TABLE invitations ADD COLUMN link_shown BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE pending_registrations (
    id                BLOB    PRIMARY KEY NOT NULL,
    email             TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    password_hash     TEXT    NOT NULL,
    organization_name TEXT,
    token_hash        BLOB    NOT NULL,
    created_at        TEXT    NOT NULL,
    expires_at        TEXT    NOT NULL,
    last_sent_at      TEXT    NOT NULL,
    sends             INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT pending_registrations_sends CHECK (sends >= 1),
    CONSTRAINT pending_registrations_expiry CHECK (expires_at > created_at)
);
CREATE UNIQUE INDEX pending_registrations_token_key ON pending_registrations (token_hash);
CREATE INDEX pending_registrations_email_idx ON pending_registrations (email, created_at);
CREATE INDEX pending_registrations_expires_idx ON pending_registrations (expires_at);
